/**
 * Differential ring_hash test: one control plane serves CDS `RING_HASH` and an RDS route whose `hash_policy` hashes
 * the `x-user` header to the reference Node xDS client (@grpc/grpc-js-xds, a real `xds:///svc` channel) and to
 * switchyard's XdsResolver + Balancer. For the same EDS endpoint list both must send every key to the same backend
 * — initially (uneven weights, so A42's carried fractions matter), after an endpoint is removed, and after the
 * weights change.
 *
 * Two checks per phase: 10,000 keys against grpc-js-xds's own ring and its own `findIndexForHash` (read through a
 * subclass of its ring_hash balancer registered in its place), and 100 real calls through the grpc-js-xds channel
 * with the key in `x-user`, each backend echoing its name — which shows the captured ring is the one its calls use.
 */
import { createRequire } from 'node:module';
import * as grpc from '@grpc/grpc-js';
import * as grpcXds from '@grpc/grpc-js-xds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import xxhashWasm from 'xxhash-wasm';
import { Balancer } from '../../src/balancer/balancer.js';
import { XdsResolver } from '../../src/resolvers/xds/xds-resolver.js';
import {
  type ControlPlane,
  type CpEndpoint,
  type CpEvent,
  envoyProtos,
  startControlPlane,
  TYPE,
} from '../helpers/xds-control-plane.js';
import { localBootstrap, until } from '../helpers/xds-fixtures.js';

const identity = (b: Buffer) => b;
const WHO: grpc.MethodDefinition<Buffer, Buffer> = {
  path: '/test.Echo/Who',
  requestStream: false,
  responseStream: false,
  requestSerialize: identity,
  requestDeserialize: identity,
  responseSerialize: identity,
  responseDeserialize: identity,
};
const EchoClient = grpc.makeGenericClientConstructor({ Who: WHO }, 'Echo');
type Echo = InstanceType<typeof EchoClient> & {
  Who(
    req: Buffer,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    cb: (e: grpc.ServiceError | null, r?: Buffer) => void,
  ): void;
};

const HEADER = 'x-user';
const KEYS = 10_000;
const CALLS = 100;

/** The parts of grpc-js-xds's ring_hash internals this test reads (JavaScript objects, no private fields). */
interface ReferenceEntry {
  readonly hash: bigint;
  readonly leafBalancer: {
    readonly endpoint: { readonly addresses: readonly { host: string; port: number }[] };
  };
}
interface ReferencePicker {
  readonly ring: readonly ReferenceEntry[];
  findIndexForHash(hash: bigint): number;
}

/**
 * Registers a subclass of grpc-js-xds's `ring_hash` balancer that remembers the last picker it produced. Must run
 * after `grpcXds.register()`. Returns a getter for the latest picker.
 */
function captureReferencePickers(): () => ReferencePicker | undefined {
  const require = createRequire(import.meta.url);
  const lb = require('@grpc/grpc-js/build/src/load-balancer.js') as {
    parseLoadBalancingConfig(raw: object): object;
    createLoadBalancer(config: object, helper: object): object;
  };
  const config = lb.parseLoadBalancingConfig({ ring_hash: {} });
  const noop = () => {};
  const helper = {
    createSubchannel: noop,
    updateState: noop,
    requestReresolution: noop,
    addChannelzChild: noop,
    removeChannelzChild: noop,
  };
  // biome-ignore lint/suspicious/noExplicitAny: grpc-js-xds's class is not exported; we only extend it.
  const RingHash = lb.createLoadBalancer(config, helper).constructor as any;
  let latest: ReferencePicker | undefined;
  class Capturing extends RingHash {
    updateState(state: unknown, picker: Partial<ReferencePicker>, error: unknown): void {
      if (typeof picker.findIndexForHash === 'function') latest = picker as ReferencePicker;
      super.updateState(state, picker, error);
    }
  }
  grpc.experimental.registerLoadBalancerType('ring_hash', Capturing as never, config.constructor as never);
  return () => latest;
}

interface Backend {
  readonly name: string;
  readonly port: number;
  readonly server: grpc.Server;
}

async function startBackend(name: string): Promise<Backend> {
  const server = new grpc.Server();
  server.addService(
    { Who: WHO },
    { Who: (_call: unknown, cb: grpc.sendUnaryData<Buffer>) => cb(null, Buffer.from(name)) },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return { name, port, server };
}

function who(client: Echo, key: string | readonly string[]): Promise<string> {
  const metadata = new grpc.Metadata();
  for (const value of typeof key === 'string' ? [key] : key) metadata.add(HEADER, value);
  return new Promise((resolve, reject) =>
    client.Who(Buffer.alloc(0), metadata, { deadline: Date.now() + 5_000 }, (e, r) =>
      e ? reject(e) : resolve(r!.toString()),
    ),
  );
}

const REFERENCE = 'grpc-js-xds';
const SWITCHYARD = 'switchyard';

describe('ring_hash agrees with @grpc/grpc-js-xds on the same control plane', () => {
  let backends: Backend[] = [];
  let cp: ControlPlane;
  let reference: Echo;
  let balancer: Balancer;
  let referencePicker: () => ReferencePicker | undefined;

  beforeAll(async () => {
    envoyProtos();
    grpcXds.register();
    referencePicker = captureReferencePickers();
    backends = await Promise.all(['A', 'B', 'C', 'D', 'E', 'F', 'G'].map(startBackend));
    cp = await startControlPlane({
      service: 'svc',
      endpoints: endpointsOf(listed(), [2, 3, 5, 3, 7, 5, 5]),
      cluster: { lb_policy: 'RING_HASH' },
      routeAction: { hash_policy: [{ header: { header_name: HEADER } }] },
    });
    reference = new EchoClient('xds:///svc', grpc.credentials.createInsecure(), {
      'grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config': JSON.stringify(
        localBootstrap(cp.port, { node: { id: REFERENCE, locality: { zone: 'a' } } }),
      ),
    }) as Echo;
    balancer = new Balancer({
      resolver: new XdsResolver({
        cluster: 'svc-cluster',
        bootstrap: localBootstrap(cp.port, { node: { id: SWITCHYARD, locality: { zone: 'a' } } }),
      }),
      policy: 'maglev', // CDS says RING_HASH and must win
    });
  }, 20_000);

  afterAll(async () => {
    reference?.close();
    await balancer?.close();
    await cp?.waitFor(() => cp.streamCount === 0, 5_000).catch(() => {});
    cp?.forceClose();
    for (const b of backends) b.server.forceShutdown();
  });

  /**
   * The backends in EDS order: not sorted by address, so a ring built in any other order than the listed one
   * (A42 carries fractional entries from one endpoint to the next) would disagree.
   */
  function listed(): Backend[] {
    return ['D', 'A', 'G', 'C', 'F', 'B', 'E'].map((n) => backends.find((b) => b.name === n)!);
  }

  function endpointsOf(list: readonly Backend[], weights: readonly number[]): CpEndpoint[] {
    return list.map((b, i) => ({ port: b.port, weight: weights[i]! }));
  }

  const nameOf = (port: number) => backends.find((b) => b.port === port)!.name;

  /** Backend name per key: switchyard's Balancer pick. */
  function switchyardRoute(keys: readonly string[]): string[] {
    return keys.map((hashKey) => {
      const lease = balancer.pick({ hashKey });
      if (lease === undefined) throw new Error('switchyard: no endpoint');
      lease.release({ ok: true });
      return nameOf(lease.endpoint.port);
    });
  }

  /** Backend name per key: grpc-js-xds's ring and search, with xxhash-wasm's h64 as its request hash. */
  async function referenceRoute(keys: readonly string[]): Promise<string[]> {
    const { h64 } = await xxhashWasm();
    const picker = referencePicker()!;
    return keys.map((key) => {
      const entry = picker.ring[picker.findIndexForHash(h64(key, 0n))]!;
      return nameOf(entry.leafBalancer.endpoint.addresses[0]!.port);
    });
  }

  /** Waits until both clients hold rings over exactly `names`. */
  async function settled(names: readonly string[], version: string): Promise<void> {
    const acked = (node: string) => (events: readonly CpEvent[]) =>
      events.some((e) => e.kind === 'ACK' && e.node === node && e.type === TYPE.EDS && e.version === version);
    await cp.waitFor(acked(REFERENCE), 10_000);
    await cp.waitFor(acked(SWITCHYARD), 10_000);
    const sorted = [...names].sort().join();
    await until(
      () => {
        const ring = referencePicker()?.ring ?? [];
        const seen = new Set(ring.map((e) => nameOf(e.leafBalancer.endpoint.addresses[0]!.port)));
        return [...seen].sort().join() === sorted;
      },
      'reference ring',
      10_000,
    );
    await until(
      () =>
        balancer
          .stats()
          .endpoints.map((e) => nameOf(e.port))
          .sort()
          .join() === sorted,
      'switchyard endpoints',
      10_000,
    );
  }

  /** Asserts 100 % agreement on 10,000 keys (rings) and on real calls through grpc-js-xds. */
  async function expectAgreement(phase: string): Promise<void> {
    const keys = Array.from({ length: KEYS }, (_, i) => `user-${phase}-${i}`);
    const ours = switchyardRoute(keys);
    const theirs = await referenceRoute(keys);
    const disagreements = keys.filter((_, i) => ours[i] !== theirs[i]);
    expect(disagreements.length, `${phase}: keys routed differently, e.g. ${disagreements[0]}`).toBe(0);
    // Every backend owns some keys: the comparison covered the whole ring, not one arc.
    expect(new Set(ours).size).toBe(new Set(theirs).size);
    const called: string[] = [];
    for (const key of keys.slice(0, CALLS)) called.push(await who(reference, key));
    expect(called).toEqual(ours.slice(0, CALLS));
  }

  it('routes 10,000 keys identically: uneven weights, after a removal, after a weight change', {
    timeout: 60_000,
  }, async () => {
    await until(() => balancer.stats().endpoints.length === 7, 'switchyard endpoints', 10_000);
    expect(balancer.policy).toBe('ring_hash');
    // The first call makes grpc-js-xds resolve and build its ring.
    await who(reference, 'warm-up');
    await settled(['A', 'B', 'C', 'D', 'E', 'F', 'G'], '1');
    await expectAgreement('initial');

    // A repeated header: gRPC hashes the values joined with ',' in arrival order — what headerKey() and the grpc
    // adapter pass as the key.
    for (let i = 0; i < 20; i++) {
      const values = [`tenant-${i}`, `user-${i * 7}`];
      expect(await who(reference, values)).toBe(switchyardRoute([values.join(',')])[0]);
    }

    // C leaves: survivors are rescaled by A42's sizing, on both sides alike.
    const withoutC = listed().filter((b) => b.name !== 'C');
    cp.setEndpoints([{ endpoints: endpointsOf(withoutC, [2, 3, 5, 7, 5, 4]) }]);
    await settled(['A', 'B', 'D', 'E', 'F', 'G'], '2');
    await expectAgreement('removed');

    // Weights change (same endpoints).
    cp.setEndpoints([{ endpoints: endpointsOf(withoutC, [4, 2, 3, 6, 9, 5]) }]);
    await settled(['A', 'B', 'D', 'E', 'F', 'G'], '3');
    await until(() => balancer.stats().endpoints.some((e) => e.weight === 9), 'switchyard weights', 10_000);
    await until(
      () => (referencePicker()?.ring.length ?? 0) === ringSizeFor([4, 2, 3, 6, 9, 5]),
      'reference weights',
      10_000,
    );
    await expectAgreement('reweighted');
  });
});

/** A42 ring size for `weights` with the default 1024 minimum (what both rings must have). */
function ringSizeFor(weights: readonly number[]): number {
  const total = weights.reduce((a, b) => a + b, 0);
  const min = Math.min(...weights) / total;
  return Math.ceil(Math.min(Math.ceil(min * 1024) / min, 4096));
}

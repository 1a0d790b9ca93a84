/**
 * Differential interop: one control plane drives the reference Node xDS client (@grpc/grpc-js-xds, through a
 * real grpc-js channel `xds:///svc`) and switchyard's XdsResolver (through a Balancer, with real calls to the
 * endpoint each pick names). Both must reach the same backends, follow the same EDS update, and NACK the same
 * invalid assignment while keeping the last good one.
 */
import * as grpc from '@grpc/grpc-js';
import * as grpcXds from '@grpc/grpc-js-xds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Balancer } from '../../src/balancer/balancer.js';
import { XdsResolver } from '../../src/resolvers/xds/xds-resolver.js';
import {
  type ControlPlane,
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
  Who(req: Buffer, options: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: Buffer) => void): void;
};

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

function who(client: Echo): Promise<string> {
  return new Promise((resolve, reject) =>
    client.Who(Buffer.alloc(0), { deadline: Date.now() + 5_000 }, (e, r) =>
      e ? reject(e) : resolve(r!.toString()),
    ),
  );
}

function tally(names: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const n of names) counts[n] = (counts[n] ?? 0) + 1;
  return counts;
}

const REFERENCE = 'grpc-js-xds';
const SWITCHYARD = 'switchyard';

describe('differential interop with @grpc/grpc-js-xds', () => {
  let backends: Backend[] = [];
  let cp: ControlPlane;
  let reference: Echo;
  let balancer: Balancer;
  const direct = new Map<string, Echo>();

  beforeAll(async () => {
    envoyProtos();
    grpcXds.register();
    backends = await Promise.all(['A', 'B', 'C', 'D'].map(startBackend));
    cp = await startControlPlane({
      service: 'svc',
      endpoints: backends.slice(0, 3).map((b) => ({ port: b.port })),
    });
    reference = new EchoClient('xds:///svc', grpc.credentials.createInsecure(), {
      // One XdsClient per channel instead of the process-wide singleton.
      'grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config': JSON.stringify(
        localBootstrap(cp.port, { node: { id: REFERENCE, locality: { zone: 'a' } } }),
      ),
    }) as Echo;
    balancer = new Balancer({
      resolver: new XdsResolver({
        cluster: 'svc-cluster',
        bootstrap: localBootstrap(cp.port, { node: { id: SWITCHYARD, locality: { zone: 'a' } } }),
      }),
      policy: 'p2c_peak_ewma', // CDS says ROUND_ROBIN and must win
    });
  }, 20_000);

  afterAll(async () => {
    reference?.close();
    await balancer?.close();
    for (const client of direct.values()) client.close();
    // Both clients end their ADS streams once closed: nothing is left open on the control plane.
    await cp?.waitFor(() => cp.streamCount === 0, 5_000).catch(() => {});
    const leftOpen = cp?.streamCount ?? 0;
    cp?.forceClose();
    for (const b of backends) b.server.forceShutdown();
    expect(leftOpen).toBe(0);
  });

  /** One call through switchyard: pick, call the picked address for real, release with the outcome. */
  async function whoViaSwitchyard(): Promise<string> {
    const lease = balancer.pick();
    if (lease === undefined) throw new Error('switchyard: no endpoint');
    let client = direct.get(lease.endpoint.address);
    if (client === undefined) {
      client = new EchoClient(lease.endpoint.address, grpc.credentials.createInsecure()) as Echo;
      direct.set(lease.endpoint.address, client);
    }
    try {
      const name = await who(client);
      lease.release({ ok: true });
      return name;
    } catch (error) {
      lease.release({ ok: false, failure: 'other' });
      throw error;
    }
  }

  /** grpc-js round robin only uses READY subchannels: call until every expected backend has answered. */
  async function warmUpReference(expected: readonly string[]): Promise<void> {
    const seen = new Set<string>();
    const deadline = Date.now() + 10_000;
    while (!expected.every((n) => seen.has(n))) {
      if (Date.now() > deadline) throw new Error(`reference client never reached ${expected}`);
      seen.add(await who(reference));
    }
  }

  async function round(
    n: number,
  ): Promise<{ reference: Record<string, number>; switchyard: Record<string, number> }> {
    const ref: string[] = [];
    const sy: string[] = [];
    for (let i = 0; i < n; i++) {
      ref.push(await who(reference));
      sy.push(await whoViaSwitchyard());
    }
    return { reference: tally(ref), switchyard: tally(sy) };
  }

  const ackedBy = (node: string, type: string, version: string) => (events: readonly CpEvent[]) =>
    events.some((e) => e.kind === 'ACK' && e.node === node && e.type === type && e.version === version);
  const nackedBy = (node: string, type: string) => (events: readonly CpEvent[]) =>
    events.some((e) => e.kind === 'NACK' && e.node === node && e.type === type);

  it('routes to the same endpoints, follows the same EDS update, and keeps the same state after a NACK', {
    timeout: 30_000,
  }, async () => {
    await new Promise<void>((resolve, reject) =>
      reference.waitForReady(Date.now() + 10_000, (e) => (e ? reject(e) : resolve())),
    );
    await until(() => balancer.stats().endpoints.length === 3, 'switchyard endpoints', 10_000);
    expect(balancer.policy).toBe('round_robin');

    // Round 1: A, B, C. Both round-robin exactly evenly.
    await warmUpReference(['A', 'B', 'C']);
    const r1 = await round(30);
    expect(r1.reference).toEqual({ A: 10, B: 10, C: 10 });
    expect(r1.switchyard).toEqual(r1.reference);

    // EDS update: C leaves, D joins. Both ACK version 2, then both route to A, B, D only.
    const [A, B, , D] = backends;
    cp.setEndpoints([{ endpoints: [A!, B!, D!].map((b) => ({ port: b.port })) }]);
    await cp.waitFor(ackedBy(REFERENCE, TYPE.EDS, '2'));
    await cp.waitFor(ackedBy(SWITCHYARD, TYPE.EDS, '2'));
    await until(() => balancer.stats().endpoints.every((e) => e.port !== backends[2]!.port), 'C drained');
    await warmUpReference(['A', 'B', 'D']);
    const r2 = await round(30);
    expect(r2.reference).toEqual({ A: 10, B: 10, D: 10 });
    expect(r2.switchyard).toEqual(r2.reference);

    // An invalid assignment (a hostname, not an IP): both NACK it with the last accepted version, keep A, B, D.
    cp.setEndpoints([{ endpoints: [{ host: 'localhost', port: A!.port }] }]);
    await cp.waitFor(nackedBy(REFERENCE, TYPE.EDS));
    await cp.waitFor(nackedBy(SWITCHYARD, TYPE.EDS));
    const nacks = cp.events.filter((e) => e.kind === 'NACK' && e.type === TYPE.EDS);
    expect(nacks.map((e) => [e.node, e.version]).sort()).toEqual([
      [REFERENCE, '2'],
      [SWITCHYARD, '2'],
    ]);
    const r3 = await round(30);
    expect(r3.reference).toEqual({ A: 10, B: 10, D: 10 });
    expect(r3.switchyard).toEqual(r3.reference);
  });
});

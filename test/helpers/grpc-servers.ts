/**
 * Real grpc-js servers on 127.0.0.1 for adapter tests, with a tiny `test.Echo/Who` service defined inline (protobuf
 * JSON descriptor via @grpc/proto-loader): the reply names the server, so tests can count where calls went.
 * Each server's behaviour (delay, failure status) can be changed while it runs; servers can be stopped and
 * restarted on the same port.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { Balancer } from '../../src/balancer/balancer.js';
import { activeBalancers, clearRetainedState } from '../../src/grpc/index.js';

const descriptor = {
  nested: {
    test: {
      nested: {
        WhoRequest: { fields: { key: { type: 'string', id: 1 } } },
        WhoReply: { fields: { server: { type: 'string', id: 1 } } },
        Echo: {
          methods: {
            Who: { requestType: 'WhoRequest', responseType: 'WhoReply' },
            Watch: { requestType: 'WhoRequest', responseType: 'WhoReply', responseStream: true },
          },
        },
      },
    },
  },
};

const packageDefinition = protoLoader.fromJSON(descriptor as Parameters<typeof protoLoader.fromJSON>[0], {
  keepCase: true,
});
const loaded = grpc.loadPackageDefinition(packageDefinition) as unknown as {
  test: { Echo: grpc.ServiceClientConstructor };
};
export const EchoClient = loaded.test.Echo;
const echoService = EchoClient.service;

/** What a server does with each call; mutable while it runs. */
export interface Behaviour {
  /** Delay before answering, ms. */
  delayMs: number;
  /** Answer with this status instead of OK (e.g. `grpc.status.UNAVAILABLE`). */
  failWith: grpc.status | undefined;
  /** What `grpc.health.v1.Health/Check` answers: SERVING when true, NOT_SERVING when false. */
  serving: boolean;
  /** An encoded ORCA load report to send in the `endpoint-load-metrics-bin` trailer of every answer. */
  orca: Buffer | undefined;
  /** A `grpc-retry-pushback-ms` trailer value to send with failures (gRFC A6). */
  pushback: string | undefined;
  /** `Watch`: messages sent before failing with `failWith` (default 0: a trailers-only failure). */
  streamMessages: number;
  /** `Watch`: response metadata is sent at once; the call ends this long after it (ms). */
  streamHoldMs: number;
}

/**
 * `grpc.health.v1.Health/Check`, hand-encoded: the request is ignored (every service name gets the server's status),
 * the response is `HealthCheckResponse { status = 1 (SERVING) | 2 (NOT_SERVING) }` as one varint field.
 */
const healthService: grpc.ServiceDefinition = {
  Check: {
    path: '/grpc.health.v1.Health/Check',
    requestStream: false,
    responseStream: false,
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (status: number) => Buffer.from([0x08, status]),
    responseDeserialize: (b: Buffer) => b,
  },
};

export interface TestServer {
  readonly name: string;
  readonly port: number;
  /** `127.0.0.1:port`. */
  readonly address: string;
  readonly behaviour: Behaviour;
  /** Calls answered since start (all restarts). */
  calls: number;
  /** Calls currently being handled. */
  active: number;
  /** `Who` calls the client cancelled while the server was still handling them (seen server-side). */
  cancelled: number;
  /** Metadata keys of the last call received. */
  lastMetadataKeys: string[];
  stop(): Promise<void>;
  /** Binds the same port again after `stop()`. */
  restart(): Promise<void>;
}

function listen(server: grpc.Server, port: number): Promise<number> {
  return new Promise((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
}

/** Starts a named Echo server on an ephemeral 127.0.0.1 port. */
export async function startServer(name: string, behaviour: Partial<Behaviour> = {}): Promise<TestServer> {
  const state: Behaviour = {
    delayMs: 0,
    failWith: undefined,
    serving: true,
    orca: undefined,
    pushback: undefined,
    streamMessages: 0,
    streamHoldMs: 0,
    ...behaviour,
  };
  let server: grpc.Server | undefined;
  const make = () => {
    const s = new grpc.Server();
    s.addService(echoService, {
      Who: (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        result.lastMetadataKeys = Object.keys(call.metadata.getMap());
        result.active++;
        let answered = false;
        // grpc-js emits 'cancelled' at the end of every call: count only calls cancelled before their answer.
        call.on('cancelled', () => {
          if (!answered) result.cancelled++;
        });
        const answer = () => {
          answered = true;
          result.active--;
          result.calls++;
          const trailer = new grpc.Metadata();
          if (state.orca !== undefined) trailer.set('endpoint-load-metrics-bin', state.orca);
          if (state.pushback !== undefined) trailer.set('grpc-retry-pushback-ms', state.pushback);
          if (state.failWith !== undefined)
            callback({ code: state.failWith, details: `${name} fails`, metadata: trailer });
          else callback(null, { server: name }, trailer);
        };
        if (state.delayMs > 0) setTimeout(answer, state.delayMs);
        else answer();
      },
      Watch: (call: grpc.ServerWritableStream<unknown, unknown>) => watch(call, state, result),
    });
    s.addService(healthService, {
      Check: (_call: grpc.ServerUnaryCall<Buffer, number>, callback: grpc.sendUnaryData<number>) =>
        callback(null, state.serving ? 1 : 2),
    });
    return s;
  };
  server = make();
  const port = await listen(server, 0);
  const result: TestServer = {
    name,
    port,
    address: `127.0.0.1:${port}`,
    behaviour: state,
    calls: 0,
    active: 0,
    cancelled: 0,
    lastMetadataKeys: [],
    async stop() {
      const s = server;
      server = undefined;
      s?.forceShutdown();
    },
    async restart() {
      if (server !== undefined) return;
      server = make();
      await listen(server, port);
    },
  };
  return result;
}

/** `Watch`: `streamMessages` replies, then `failWith` (or, without it, metadata first and OK after `streamHoldMs`). */
function watch(
  call: grpc.ServerWritableStream<unknown, unknown>,
  state: Behaviour,
  server: TestServer,
): void {
  server.calls++;
  server.lastMetadataKeys = Object.keys(call.metadata.getMap());
  const fail = () => {
    const trailer = new grpc.Metadata();
    if (state.pushback !== undefined) trailer.set('grpc-retry-pushback-ms', state.pushback);
    call.emit('error', { code: state.failWith, details: `${server.name} fails`, metadata: trailer });
  };
  if (state.failWith !== undefined && state.streamMessages === 0) {
    fail();
    return;
  }
  call.sendMetadata(new grpc.Metadata());
  for (let i = 0; i < state.streamMessages; i++) call.write({ server: server.name });
  setTimeout(() => {
    if (state.failWith !== undefined) fail();
    else {
      call.write({ server: server.name });
      call.end();
    }
  }, state.streamHoldMs);
}

/** Starts `n` servers named `s0`, `s1`, … */
export function startServers(n: number, behaviour: Partial<Behaviour> = {}): Promise<TestServer[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => startServer(`s${i}`, behaviour)));
}

export type Echo = grpc.Client & {
  Who(
    request: { key?: string },
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: (error: grpc.ServiceError | null, reply?: { server: string }) => void,
  ): grpc.ClientUnaryCall;
  Watch(
    request: { key?: string },
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
  ): grpc.ClientReadableStream<{ server: string }>;
};

/** A client for `target`. */
export function echoClient(target: string, options: grpc.ChannelOptions): Echo {
  return new EchoClient(target, grpc.credentials.createInsecure(), options) as unknown as Echo;
}

/** One call: resolves with the server's name, or `ERR <code>: <details>`. */
export function who(
  client: Echo,
  metadata: Record<string, string> = {},
  deadlineMs = 3_000,
  options: grpc.CallOptions = {},
): Promise<string> {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(metadata)) md.set(k, v);
  return new Promise((resolve) => {
    client.Who({}, md, { deadline: Date.now() + deadlineMs, ...options }, (error, reply) =>
      resolve(error ? `ERR ${error.code}: ${error.details}` : reply!.server),
    );
  });
}

/** `n` calls, `concurrency` at a time; returns counts by result. */
export async function burst(
  client: Echo,
  n: number,
  concurrency = 1,
  metadata: (i: number) => Record<string, string> = () => ({}),
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const r = await who(client, metadata(i));
      counts[r] = (counts[r] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return counts;
}

/** Polls `check` every 20 ms until it returns true, or throws after `timeoutMs` (for grpc-js's own timers). */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5_000,
  what = 'condition',
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Waits until the switchyard Balancer named `name` has `n` routable (connected) endpoints. */
export function waitRoutable(name: string, n: number, timeoutMs = 3_000): Promise<void> {
  return waitFor(
    () =>
      activeBalancers()
        .find((b) => b.name === name)
        ?.stats().routable === n,
    timeoutMs,
    `${n} routable endpoints in ${name}`,
  );
}

/** The servers and clients of one test file, from {@link useEchoFleet}. */
export interface EchoFleet {
  readonly servers: TestServer[];
  /** A client for `target`, closed after the test. */
  open(target: string, options: grpc.ChannelOptions): Echo;
  /** `switchyard-static:///a,b,…` over `servers` (default: all). */
  target(servers?: readonly TestServer[]): string;
  /** The live switchyard Balancer named `name`, if any. */
  balancer(name: string): Balancer | undefined;
}

/**
 * Starts `n` servers before the file's tests and stops them after; after each test, closes the clients opened with
 * `open()`, resets server behaviour and restarts stopped servers.
 */
export function useEchoFleet(n: number): EchoFleet {
  const servers: TestServer[] = [];
  const clients: Echo[] = [];
  beforeAll(async () => {
    servers.push(...(await startServers(n)));
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    // Closed channels leave their endpoint state for a while (retained-state.ts): no test inherits another's.
    clearRetainedState();
    for (const s of servers) {
      s.behaviour.delayMs = 0;
      s.behaviour.failWith = undefined;
      s.behaviour.serving = true;
      s.behaviour.orca = undefined;
      s.behaviour.pushback = undefined;
      s.behaviour.streamMessages = 0;
      s.behaviour.streamHoldMs = 0;
      await s.restart();
    }
  });
  afterAll(async () => {
    for (const s of servers) await s.stop();
  });
  return {
    servers,
    open(target, options) {
      const client = echoClient(target, options);
      clients.push(client);
      return client;
    },
    target: (ss = servers) => `switchyard-static:///${ss.map((s) => s.address).join(',')}`,
    balancer: (name) => activeBalancers().find((b) => b.name === name),
  };
}

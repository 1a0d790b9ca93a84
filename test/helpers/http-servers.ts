/**
 * Real node:http backends on 127.0.0.1 for adapter tests and benchmarks: fast, slow, 503-flaky, dead (refusing
 * connections) and black-hole (accepts connections, never answers). Every server counts its requests and remembers
 * the Host headers it saw; `close()` ends keep-alive sockets too, so no test leaves anything running.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, createServer as createNetServer, type Socket } from 'node:net';

/** A backend under test. */
export interface TestServer {
  readonly name: string;
  /** `127.0.0.1:port`, as a balancer endpoint. */
  readonly address: string;
  readonly port: number;
  /** Requests received (for black-hole servers: connections accepted). */
  readonly hits: number;
  /** Host headers received, in order (bounded to the last 1,000). */
  readonly hosts: readonly string[];
  /** Request bodies received (bounded to the last 100), as text. */
  readonly bodies: readonly string[];
  close(): Promise<void>;
}

/** A server whose 503 behaviour can be switched at run time. */
export interface FlakyServer extends TestServer {
  /** While true, every request is answered with 503. */
  failing: boolean;
  /** Dies at once: stops listening and cuts every connection, requests in flight included (a crashed process). */
  kill(): void;
}

export interface ServerOptions {
  readonly name?: string;
  /** Delay before answering, in ms. Default 0. */
  readonly delayMs?: number;
  /** Status to answer with. Default 200. */
  readonly status?: number;
  /** Port to listen on. Default: any free port. */
  readonly port?: number;
  /** Response body. Default: the server's name. */
  readonly body?: Buffer | string;
  /** Read the whole request, then reset the connection instead of answering (a crash mid-request). */
  readonly reset?: boolean;
}

/** An HTTP server answering `200 <name>` (after `delayMs`). */
export function startServer(options: ServerOptions = {}): Promise<FlakyServer> {
  const name = options.name ?? 'server';
  const state = { hits: 0, failing: false };
  const hosts: string[] = [];
  const bodies: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    state.hits++;
    hosts.push(req.headers.host ?? '');
    if (hosts.length > 1000) hosts.shift();
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (chunks.length > 0) {
        bodies.push(Buffer.concat(chunks).toString());
        if (bodies.length > 100) bodies.shift();
      }
      if (options.reset) {
        req.socket.destroy();
        return;
      }
      const answer = () => {
        const status = state.failing ? 503 : (options.status ?? 200);
        res.writeHead(status, { 'content-type': 'text/plain', 'x-server': name });
        res.end(options.body ?? name);
      };
      if (options.delayMs) setTimeout(answer, options.delayMs);
      else answer();
    });
  });
  server.keepAliveTimeout = 30_000;
  return listen(server, options.port).then((port) => ({
    name,
    address: `127.0.0.1:${port}`,
    port,
    get hits() {
      return state.hits;
    },
    hosts,
    bodies,
    get failing() {
      return state.failing;
    },
    set failing(value: boolean) {
      state.failing = value;
    },
    close: () => closeHttp(server),
    kill: () => {
      server.close();
      server.closeAllConnections();
    },
  }));
}

/** A fast server (answers at once). */
export const fastServer = (name = 'fast') => startServer({ name });
/** A slow server (answers after `delayMs`). */
export const slowServer = (delayMs: number, name = 'slow') => startServer({ name, delayMs });
/** A server that answers 503 while `failing` is true (initially true). */
export async function flakyServer(name = 'flaky'): Promise<FlakyServer> {
  const server = await startServer({ name });
  server.failing = true;
  return server;
}

/**
 * An address where nothing listens, so connecting is refused at once (ECONNREFUSED): a privileged port that no test
 * server can take (see refusingPort).
 * `close()` is a no-op.
 */
export async function deadServer(name = 'dead'): Promise<TestServer> {
  const port = await refusingPort();
  return { name, address: `127.0.0.1:${port}`, port, hits: 0, hosts: [], bodies: [], close: async () => {} };
}

/** Next privileged port to try for {@link deadServer}; successive dead servers get different ports. */
let nextDeadPort = 1;

/**
 * A port on 127.0.0.1 that refuses connections and that no test server can take later. A port freed by closing a
 * listener is not enough: the kernel may hand it to the next server listening on port 0, turning the "dead" endpoint
 * into a live one mid-test (seen as a rare failure under load). Ports below 1024 are never given out for port 0, and
 * each candidate is checked to refuse before it is used; bounded, so a machine listening everywhere fails loudly.
 */
async function refusingPort(): Promise<number> {
  for (let tries = 0; tries < 200; tries++) {
    const port = nextDeadPort;
    nextDeadPort = (nextDeadPort % 1023) + 1;
    if (await refuses(port)) return port;
  }
  throw new Error('deadServer: no port below 1024 on 127.0.0.1 refuses connections');
}

function refuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

/** A server that accepts connections and never answers (a hung process, a stuck proxy). */
export async function blackHoleServer(name = 'black-hole'): Promise<TestServer> {
  const sockets = new Set<Socket>();
  let hits = 0;
  const server = createNetServer((socket) => {
    hits++;
    sockets.add(socket);
    socket.on('data', () => {}); // read and ignore
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  const port = await listen(server, undefined);
  return {
    name,
    address: `127.0.0.1:${port}`,
    port,
    get hits() {
      return hits;
    },
    hosts: [],
    bodies: [],
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Closes every server, ignoring ones already closed. */
export async function closeAll(servers: readonly (TestServer | undefined)[]): Promise<void> {
  await Promise.all(servers.map((s) => s?.close().catch(() => {})));
}

async function listen(
  server: Server | ReturnType<typeof createNetServer>,
  port: number | undefined,
): Promise<number> {
  server.listen(port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('server has no TCP address');
  return address.port;
}

async function closeHttp(server: Server): Promise<void> {
  if (!server.listening) return;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  // Connections with a request in flight get a moment to answer, then are cut (a restart that does not wait forever).
  const timer = setTimeout(() => server.closeAllConnections(), 2_000);
  await closed;
  clearTimeout(timer);
}

/**
 * Local HTTP servers for the examples: each example starts its own on 127.0.0.1 (port 0) and closes them at the
 * end, so every example runs with nothing set up beforehand.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import type { Balancer } from '../src/index.js';

/** A running local server. */
export interface LocalServer {
  readonly name: string;
  readonly port: number;
  /** `127.0.0.1:<port>`. */
  readonly address: string;
  close(): Promise<void>;
}

/**
 * Starts an HTTP server answering every request after `delayMs` with `200 <name>` and an `x-backend: <name>`
 * header (or with `status` if given).
 */
export async function startServer(name: string, delayMs = 0, status = 200): Promise<LocalServer> {
  const server: Server = createServer((req, res) => {
    req.resume();
    setTimeout(() => {
      res.writeHead(status, { 'content-type': 'text/plain', 'x-backend': name });
      res.end(`${name}\n`);
    }, delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    name,
    port,
    address: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Starts several servers; `specs` are `[name, delayMs]` pairs. */
export function startServers(specs: readonly (readonly [string, number])[]): Promise<LocalServer[]> {
  return Promise.all(specs.map(([name, delay]) => startServer(name, delay)));
}

/**
 * Sends `n` GETs one after another through `balancer` (pick, request on a Pool per endpoint, release) and counts
 * the answers by server name. For the resolver examples, where the sending is incidental; examples/balancer-basics.ts
 * shows the same loop with failures reported.
 */
export async function countAnswers(balancer: Balancer, n: number): Promise<Record<string, number>> {
  const pools = new Map<string, Pool>();
  const answers = new Map<string, number>();
  try {
    for (let i = 0; i < n; i++) {
      const lease = balancer.pick();
      if (lease === undefined) throw new Error('nothing routable');
      const { address } = lease.endpoint;
      let pool = pools.get(address);
      if (pool === undefined) pools.set(address, (pool = new Pool(`http://${address}`)));
      const res = await pool.request({ path: '/', method: 'GET' });
      const name = (await res.body.text()).trim();
      lease.release();
      answers.set(name, (answers.get(name) ?? 0) + 1);
    }
  } finally {
    await Promise.all([...pools.values()].map((p) => p.close()));
  }
  return Object.fromEntries([...answers].sort());
}

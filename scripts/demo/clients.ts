/**
 * The clients the demo compares. Each exposes `send()` (one logical GET, retries included) and `close()`.
 *
 * - {@link switchyardClient}: a switchyard Balancer choosing the endpoint per attempt, one undici Pool per
 *   endpoint, up to two retries on another endpoint (tried ones excluded) for connection failures, resets, timeouts
 *   and 503s — what the undici adapter does, written out here in a few lines so the demo runs on the core alone.
 * - {@link balancedPoolClient}: undici's own BalancedPool, as users have it today (no retries).
 */
import { BalancedPool, Pool } from 'undici';
import { Balancer } from '../../src/balancer/balancer.js';
import type { FailureKind } from '../../src/balancer/outcome.js';
import type { PolicyConfig } from '../../src/pickers/registry.js';
import type { SendResult } from './workload.js';

export interface DemoClient {
  send(): Promise<SendResult>;
  close(): Promise<void>;
}

/** Per-attempt deadline for response headers and body, ms. */
export const ATTEMPT_TIMEOUT_MS = 2000;
const MAX_ATTEMPTS = 3;

export function switchyardClient(policy: PolicyConfig, ports: readonly number[]): DemoClient {
  const endpoints = ports.map((port) => `127.0.0.1:${port}`);
  const balancer = new Balancer({ endpoints, policy, name: 'demo' });
  const pools = new Map(endpoints.map((e) => [e, new Pool(`http://${e}`, { connections: 64 })]));
  return {
    async send() {
      const tried: string[] = [];
      const failedOn: string[] = [];
      let failure: string | undefined;
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const lease = balancer.pick({ exclude: tried });
        if (lease === undefined) return { ok: false, retries: attempt, failure: 'unavailable', failedOn };
        const address = lease.endpoint.address;
        tried.push(address);
        try {
          const res = await pools.get(address)!.request({
            path: '/',
            method: 'GET',
            headersTimeout: ATTEMPT_TIMEOUT_MS,
            bodyTimeout: ATTEMPT_TIMEOUT_MS,
          });
          await res.body.dump();
          const backend = String(res.headers['x-backend']);
          if (res.statusCode < 500) {
            lease.release();
            return { ok: true, backend, retries: attempt, failedOn };
          }
          lease.release({ ok: false, failure: 'status', status: res.statusCode });
          failedOn.push(backend);
          failure = String(res.statusCode);
        } catch (error) {
          const kind = classify(error);
          lease.release({ ok: false, failure: kind });
          failure = kind;
        }
      }
      return { ok: false, retries: MAX_ATTEMPTS - 1, failure, failedOn };
    },
    async close() {
      await balancer.close();
      await Promise.all([...pools.values()].map((p) => p.close()));
    },
  };
}

export function balancedPoolClient(ports: readonly number[]): DemoClient {
  const pool = new BalancedPool(
    ports.map((port) => `http://127.0.0.1:${port}`),
    { connections: 64 },
  );
  return {
    async send() {
      try {
        const res = await pool.request({
          path: '/',
          method: 'GET',
          headersTimeout: ATTEMPT_TIMEOUT_MS,
          bodyTimeout: ATTEMPT_TIMEOUT_MS,
        });
        await res.body.dump();
        const backend = String(res.headers['x-backend']);
        if (res.statusCode < 500) return { ok: true, backend, retries: 0 };
        return { ok: false, backend, retries: 0, failure: String(res.statusCode) };
      } catch (error) {
        return { ok: false, retries: 0, failure: classify(error) };
      }
    },
    async close() {
      await pool.close();
    },
  };
}

/** Maps an undici/Node error to a switchyard failure kind. */
function classify(error: unknown): FailureKind {
  const code = (error as { code?: string }).code;
  if (code === 'ECONNREFUSED' || code === 'UND_ERR_CONNECT_TIMEOUT') return 'connect';
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return 'timeout';
  if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'EPIPE') return 'reset';
  return 'other';
}

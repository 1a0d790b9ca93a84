/**
 * The clients the demo compares. Each exposes `send()` (one logical GET, retries included) and `close()`.
 *
 * - {@link switchyardClient}: switchyard's undici dispatcher (`switchyard-lb/undici`) with one policy, outlier
 *   detection and retries elsewhere under a retry budget.
 * - {@link balancedPoolClient}: undici's own BalancedPool, as users have it today (no retries, no ejection).
 */
import { BalancedPool, type Dispatcher, request } from 'undici';
import type { PolicyConfig } from '../../src/balancer/policy/registry.js';
import { RetryPolicy } from '../../src/resilience/retry-policy.js';
import { BalancedDispatcher, failureOfError } from '../../src/undici/index.js';
import type { SendResult } from './workload.js';

export interface DemoClient {
  send(): Promise<SendResult>;
  /** Retries made, when the client counts them itself rather than per request. */
  retries?(): number;
  close(): Promise<void>;
}

/** Per-attempt deadline for response headers and body, ms. */
export const ATTEMPT_TIMEOUT_MS = 2000;

/**
 * switchyard's undici adapter: a {@link BalancedDispatcher} over the endpoints with the given policy, outlier
 * detection (so a dead or flapping backend is ejected and tried again later) and retries on another endpoint under
 * the default 20 % retry budget. Requests go through plain `undici.request` with the dispatcher.
 */
export function switchyardClient(policy: PolicyConfig, ports: readonly number[]): DemoClient {
  const retry = new RetryPolicy({ maxAttempts: 3, perTryTimeoutMs: ATTEMPT_TIMEOUT_MS });
  const dispatcher = new BalancedDispatcher({
    balancer: {
      endpoints: ports.map((port) => `127.0.0.1:${port}`),
      policy,
      name: 'demo',
      // Short ejections for a run of a few seconds (Envoy's defaults are 10 s sweeps and 30 s ejections).
      outlierDetection: {
        consecutive5xx: 5,
        intervalMs: 1000,
        baseEjectionTimeMs: 2000,
        maxEjectionPercent: 40,
      },
    },
    pool: { connections: 64 },
    retry,
  });
  return {
    send: () => settle(request('http://demo.local/', { dispatcher, method: 'GET' })),
    // Retries happen inside the dispatcher; the policy counts them.
    retries: () => retry.stats().retries,
    async close() {
      await dispatcher.close();
    },
  };
}

export function balancedPoolClient(ports: readonly number[]): DemoClient {
  const pool = new BalancedPool(
    ports.map((port) => `http://127.0.0.1:${port}`),
    { connections: 64 },
  );
  return {
    send: () =>
      settle(
        pool.request({
          path: '/',
          method: 'GET',
          headersTimeout: ATTEMPT_TIMEOUT_MS,
          bodyTimeout: ATTEMPT_TIMEOUT_MS,
        }),
      ),
    async close() {
      await pool.close();
    },
  };
}

/**
 * One logical request as the caller sees it: the final status (5xx is an error) and the backend that answered,
 * or the kind of failure. Retries, if any, happened inside the client.
 */
async function settle(pending: Promise<Dispatcher.ResponseData>): Promise<SendResult> {
  try {
    const res = await pending;
    await res.body.dump();
    const backend = String(res.headers['x-backend']);
    if (res.statusCode < 500) return { ok: true, backend, retries: 0 };
    return { ok: false, backend, retries: 0, failure: String(res.statusCode) };
  } catch (error) {
    return { ok: false, retries: 0, failure: failureOfError(error) };
  }
}

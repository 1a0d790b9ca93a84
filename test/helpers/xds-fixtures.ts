/**
 * Small shared pieces of the xDS tests: a recording resolver listener, a bootstrap for a local control plane,
 * and polling with a deadline (for network events; timers are driven by ManualClock where it matters).
 */
import type { ResolverListener, ResolverUpdate } from '../../src/balancer/resolver.js';

/** Polls `predicate` every 5 ms; rejects after `timeoutMs` with `what` in the message. */
export async function until(predicate: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A listener that records everything it hears. */
export function recordingListener(): {
  readonly listener: ResolverListener;
  readonly updates: ResolverUpdate[];
  readonly errors: Error[];
  last(): ResolverUpdate;
} {
  const updates: ResolverUpdate[] = [];
  const errors: Error[] = [];
  return {
    listener: { onUpdate: (u) => updates.push(u), onError: (e) => errors.push(e) },
    updates,
    errors,
    last() {
      const update = updates.at(-1);
      if (update === undefined) throw new Error('no update yet');
      return update;
    },
  };
}

/** A gRPC xDS bootstrap pointing at a local control plane. */
export function localBootstrap(port: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    xds_servers: [
      { server_uri: `127.0.0.1:${port}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] },
    ],
    node: { id: 'switchyard-test', cluster: 'tests', locality: { zone: 'a' } },
    ...extra,
  };
}

/** `host:port` addresses of an update, sorted. */
export function addressesOf(update: ResolverUpdate): string[] {
  return update.endpoints.map((e) => (typeof e === 'string' ? e : `${e.host}:${e.port}`)).sort();
}

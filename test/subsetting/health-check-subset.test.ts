/**
 * With subsetting, active health checks probe the subset's members only (real node:http backends count the probes):
 * health traffic shrinks with connections. A backend that joins by widening is probed once it is a member.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Balancer } from '../../src/balancer/balancer.js';
import { closeAll, type FlakyServer, startServer } from '../helpers/http-servers.js';

/** Polls `check` until it holds, failing after `timeoutMs` (bounded: a broken feature fails, never hangs). */
const waitFor = (check: () => boolean, { timeoutMs, what }: { timeoutMs: number; what: string }) =>
  vi.waitFor(
    () => {
      if (!check()) throw new Error(`still waiting for ${what}`);
    },
    { timeout: timeoutMs, interval: 10 },
  );

describe('active health checks with subsetting', () => {
  let servers: FlakyServer[] = [];
  beforeAll(async () => {
    servers = await Promise.all(Array.from({ length: 10 }, (_, i) => startServer({ name: `b${i}` })));
  });
  afterAll(() => closeAll(servers));

  it('probe only the members; a member that fails widens the subset and the newcomer is probed', async () => {
    const balancer = new Balancer({
      endpoints: servers.map((s) => s.address),
      subset: { kind: 'aperture', coordinate: { index: 0, count: 1000 }, minAperture: 3 },
      healthCheck: { intervalMs: 40, unhealthyThreshold: 1, healthyThreshold: 1 },
    });
    const members = () => new Set(balancer.subset!.members);
    const probed = () => servers.filter((s) => s.hits > 0).map((s) => s.address);
    await waitFor(() => servers.filter((s) => members().has(s.address)).every((s) => s.hits >= 3), {
      timeoutMs: 5_000,
      what: 'three probes of every member',
    });
    const before = members();
    expect(before.size).toBeLessThan(servers.length);
    expect(new Set(probed())).toEqual(before);

    // One member starts failing its checks: the subset widens past it, and the new member is probed too.
    const failing = servers.find((s) => before.has(s.address))!;
    failing.failing = true;
    await waitFor(() => balancer.subset!.widened > 0, { timeoutMs: 5_000, what: 'widening' });
    const joined = [...members()].filter((a) => !before.has(a));
    expect(joined.length).toBeGreaterThan(0);
    await waitFor(() => joined.every((a) => servers.find((s) => s.address === a)!.hits > 0), {
      timeoutMs: 5_000,
      what: 'a probe of the widened member',
    });
    const outside = servers.filter((s) => !members().has(s.address));
    expect(outside.length).toBeGreaterThan(0);
    for (const s of outside) expect(s.hits).toBe(0);
    await balancer.close();
  });
});

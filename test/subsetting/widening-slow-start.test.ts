/**
 * An endpoint that joins the subset by widening gets a cold connection: with slow start it ramps from the moment it
 * joins, as an endpoint back from unhealthy does, instead of taking its full share at once. Without slow start it
 * gets its full share at once.
 */
import { describe, expect, it } from 'vitest';
import { backendAddresses } from '../../benchmarks/subsetting/fleet.js';
import { Balancer } from '../../src/balancer/balancer.js';
import { ManualClock } from '../../src/clock.js';

const addresses = backendAddresses(12);
const endpoints = (unhealthy: ReadonlySet<string>) =>
  addresses.map((a) => {
    const [host, port] = a.split(':') as [string, string];
    return {
      host,
      port: Number(port),
      health: unhealthy.has(a) ? ('unhealthy' as const) : ('healthy' as const),
    };
  });

function widenOnce(slowStart: boolean) {
  const clock = new ManualClock();
  const balancer = new Balancer({
    endpoints: endpoints(new Set()),
    clock,
    subset: { kind: 'aperture', coordinate: { index: 0, count: 1000 }, minAperture: 3 },
    ...(slowStart ? { slowStart: { windowMs: 10_000 } } : {}),
  });
  clock.advance(60_000); // every endpoint well past its own slow start
  const before = new Set(balancer.subset!.members);
  const lost = [...before][0]!;
  balancer.setEndpoints(endpoints(new Set([lost])));
  const joined = balancer.subset!.members.filter((a) => !before.has(a));
  const weight = (address: string) =>
    balancer.stats().endpoints.find((e) => e.address === address)!.effectiveWeight;
  return { balancer, clock, joined, weight };
}

describe('widening and slow start', () => {
  it('a member that joins by widening ramps from when it joined', () => {
    const { balancer, clock, joined, weight } = widenOnce(true);
    expect(joined.length).toBeGreaterThan(0);
    const newcomer = joined[0]!;
    expect(weight(newcomer)).toBeLessThan(0.2);
    clock.advance(5_000);
    const halfway = weight(newcomer);
    expect(halfway).toBeGreaterThan(0.2);
    expect(halfway).toBeLessThan(1);
    clock.advance(6_000);
    expect(weight(newcomer)).toBe(1);
    void balancer.close();
  });

  it('without slow start it takes its full share at once', () => {
    const { balancer, joined, weight } = widenOnce(false);
    expect(joined.length).toBeGreaterThan(0);
    expect(weight(joined[0]!)).toBe(1);
    void balancer.close();
  });
});

/**
 * Property: whatever sequence of outcomes, clock movements and resolver updates happened, a picked endpoint is
 * routable under the current health — never draining, never ejected or unhealthy unless its level is in panic, and
 * a member of the routable set recomputed from scratch (the picker snapshot is never stale).
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Balancer } from '../../src/balancer/balancer.js';
import type { EndpointState } from '../../src/balancer/endpoint-state.js';
import type { ExtensionContext } from '../../src/balancer/extension.js';
import type { FailureKind } from '../../src/balancer/outcome.js';
import { selectRoutable } from '../../src/balancer/routing/routable.js';
import { ManualClock } from '../../src/clock.js';
import { defaultRoutingOptions } from '../../src/health/options.js';
import { channelNames } from '../../src/observability/channels.js';
import { seededRandom } from '../../src/random.js';
import { checkProperty } from '../helpers/properties.js';

const POOL = Array.from({ length: 12 }, (_, i) => ({
  host: '10.0.0.1',
  port: 1000 + i,
  priority: i % 3 === 2 ? 1 : 0,
  locality: { zone: i % 2 === 0 ? 'a' : 'b' },
}));

type Command =
  | { kind: 'outcome'; ok: boolean; failure: FailureKind }
  | { kind: 'advance'; ms: number }
  | { kind: 'resolve'; members: boolean[]; unhealthy: boolean[] };

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('outcome' as const),
      ok: fc.boolean(),
      failure: fc.constantFrom<FailureKind>(
        'connect',
        'reset',
        'timeout',
        'status',
        'overloaded',
        'cancelled',
        'other',
      ),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 20_000 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('resolve' as const),
      members: fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
      unhealthy: fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
    }),
  },
);

describe('property: a picked endpoint is always routable under the current health', () => {
  it('holds across outcomes, ejections, returns, slow start and resolver updates', () => {
    // Ejections of the current run: the property must see outlier detection at work, not pass without it.
    let ejections = 0;
    let runsWithEjection = 0;
    const onEjected = () => ejections++;
    diagnosticsChannel.subscribe(channelNames.endpointEjected, onEjected);
    try {
      checkProperty(
        fc.property(
          fc.array(command, { minLength: 1, maxLength: 60 }),
          fc.integer({ min: 0, max: 100 }),
          fc.constantFrom('round_robin', 'weighted_round_robin', 'random', 'least_request', 'p2c_peak_ewma'),
          fc.constantFrom(undefined, 'a'),
          (commands, panicThreshold, policy, localZone) => {
            ejections = 0;
            /** Failures in a row per address since its last success or ejection (the model of consecutive5xx: 2). */
            const streak = new Map<string, number>();
            let expectEjection = false;
            const clock = new ManualClock();
            let ctx: ExtensionContext | undefined;
            const b = new Balancer({
              endpoints: POOL.slice(0, 8),
              policy,
              clock,
              random: seededRandom(42),
              panicThreshold,
              outlierDetection: {
                consecutive5xx: 2,
                intervalMs: 1_000,
                baseEjectionTimeMs: 3_000,
                maxEjectionPercent: 100,
              },
              slowStart: { windowMs: 5_000 },
              ...(localZone === undefined ? {} : { localZone, zoneAwareMinClusterSize: 2 }),
              extensions: [{ attach: (c) => (ctx = c) }],
            });
            const state = (address: string): EndpointState =>
              [...ctx!.states()].find((s) => s.address === address)!;
            const check = () => {
              const lease = b.pick();
              if (lease === undefined) {
                // Nothing routable is only possible with panic disabled or an empty set.
                const candidates = [...ctx!.states()].filter((s) => !s.removed);
                expect(panicThreshold === 0 || candidates.length === 0).toBe(true);
                return undefined;
              }
              const picked = state(lease.endpoint.address);
              expect(picked.removed).toBe(false);
              if (!b.panic) expect(picked.healthy).toBe(true);
              const fresh = selectRoutable(ctx!.states(), {
                ...defaultRoutingOptions,
                panicThreshold,
                localZone,
                zoneAwareMinClusterSize: 2,
              });
              expect(fresh.endpoints).toContain(picked);
              return lease;
            };
            for (const c of commands) {
              if (c.kind === 'advance') clock.advance(c.ms);
              else if (c.kind === 'resolve') {
                const endpoints = POOL.filter((_, i) => c.members[i]).map((e, i) => ({
                  ...e,
                  health: c.unhealthy[i] ? ('unhealthy' as const) : ('unknown' as const),
                }));
                b.setEndpoints(endpoints);
                // A removed endpoint with nothing in flight is forgotten: its failure streak goes with it.
                const listed = new Set(endpoints.map((e) => `${e.host}:${e.port}`));
                for (const address of [...streak.keys()]) if (!listed.has(address)) streak.delete(address);
              } else {
                const lease = check();
                if (lease !== undefined) {
                  const address = lease.endpoint.address;
                  const ejectedBefore = ejections;
                  lease.release(c.ok ? { ok: true } : { ok: false, failure: c.failure, status: 500 });
                  if (c.ok) streak.set(address, 0);
                  else if (c.failure !== 'cancelled') {
                    const n = (streak.get(address) ?? 0) + 1;
                    streak.set(address, n);
                    // Two failures in a row on a listed endpoint: consecutive5xx (2) trips and, with
                    // maxEjectionPercent 100, ejects it unless it already was ejected (panic routing).
                    if (n >= 2 && !state(address).ejected) expectEjection = true;
                    if (n >= 2 && ejections === ejectedBefore && !state(address).ejected)
                      throw new Error(`${address} failed twice in a row and was not ejected`);
                  }
                  if (ejections > ejectedBefore || state(address).ejected) streak.set(address, 0);
                }
              }
              const probe = check();
              if (probe !== undefined) {
                probe.release();
                streak.set(probe.endpoint.address, 0);
              }
            }
            if (expectEjection) expect(ejections).toBeGreaterThan(0);
            if (ejections > 0) runsWithEjection++;
          },
        ),
        { seed: 42, numRuns: 300 },
      );
    } finally {
      diagnosticsChannel.unsubscribe(channelNames.endpointEjected, onEjected);
    }
    // Across the runs, ejections did happen: the property exercised health, not only the happy path.
    expect(runsWithEjection).toBeGreaterThan(20);
  });
});

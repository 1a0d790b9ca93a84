import { describe, expect, it } from 'vitest';
import { Balancer, defaultBalancerOptions } from '../../src/balancer/balancer.js';
import { parseBalancerOptions } from '../../src/balancer/parse-options.js';
import { ManualClock } from '../../src/clock.js';
import { ConfigError } from '../../src/errors/config-error.js';
import { parseGrpcLbOptions } from '../../src/grpc/config.js';

/** Options the Balancer rejects, each for one field. */
const BAD: readonly [unknown, RegExp][] = [
  [{}, /^endpoints: expected exactly one of/],
  [{ endpoints: [], name: '' }, /^name: expected a non-empty string/],
  [{ endpoints: [], closeTimeoutMs: -1 }, /^closeTimeoutMs: /],
  [{ endpoints: [], policy: 'nope' }, /^policy: expected one of/],
  [{ endpoints: [], outlierDetection: { intervalMs: 'x' } }, /^outlierDetection\.intervalMs: /],
  [{ endpoints: [], slowStart: { windowMs: -5 } }, /^slowStart\.windowMs: /],
  [{ endpoints: [], circuitBreaker: { maxRequests: 0 } }, /^circuitBreaker\.maxRequests: /],
  [{ endpoints: [], addressPolicy: { deny: [42] } }, /^addressPolicy\.deny/],
  [{ endpoints: ['not an address'] }, /^endpoints\[0\]/],
  [{ endpoints: [], clock: {} }, /^clock/],
  [{ endpoints: [], typo: 1 }, /^typo: /],
];

describe('parseBalancerOptions', () => {
  it('rejects exactly what the Balancer constructor rejects, with the same message', () => {
    for (const [options, message] of BAD) {
      const parseError = (() => {
        try {
          parseBalancerOptions(options);
        } catch (error) {
          return error;
        }
        return undefined;
      })();
      expect(parseError, JSON.stringify(options)).toBeInstanceOf(ConfigError);
      expect((parseError as Error).message).toMatch(message);
      expect(() => new Balancer(options as never)).toThrow((parseError as Error).message);
    }
  });

  it('applies the defaults and starts nothing: the resolver is not started, no timer is set', () => {
    const clock = new ManualClock();
    let started = 0;
    const resolver = { start: () => void started++, refresh() {}, close() {} };
    const parsed = parseBalancerOptions({
      resolver,
      clock,
      healthCheck: { path: '/healthz' },
      outlierDetection: {},
    });
    expect(started).toBe(0);
    expect(clock.pendingTimers).toBe(0);
    expect(parsed).toMatchObject({ name: 'default', closeTimeoutMs: 30_000, resolver, endpoints: undefined });
    expect(parsed.policy.definition.name).toBe(defaultBalancerOptions.policy);
    expect(parsed.health.healthCheck).toMatchObject({ path: '/healthz' });
    expect(parsed.health.slowStart).toBeUndefined();
  });

  it('validators answer with the Balancer’s own field names, without building a Balancer', () => {
    expect(() => parseGrpcLbOptions({ balancer: { closeTimeoutMs: -1 } })).toThrow(
      /^balancer\.closeTimeoutMs: /,
    );
  });
});

import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors/config-error.js';
import { seededRandom } from '../../src/random.js';
import { parseFleetConfig } from '../../src/sim/config.js';
import { parseDistribution } from '../../src/sim/distributions.js';

const base = {
  durationMs: 1000,
  arrivals: { type: 'poisson', ratePerSec: 100 },
  backends: [{ name: 'a', serviceTime: { type: 'constant', ms: 1 } }],
  configurations: [{ name: 'rr', policy: 'round_robin' }],
};

function fieldOf(mutate: (config: Record<string, unknown>) => void): string {
  const config = structuredClone(base) as Record<string, unknown>;
  mutate(config);
  try {
    parseFleetConfig(config);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).field;
  }
  throw new Error('expected a ConfigError');
}

describe('parseFleetConfig', () => {
  it('accepts a minimal fleet and fills defaults', () => {
    const plan = parseFleetConfig(base);
    expect(plan.seed).toBe(1);
    expect(plan.clients).toBe(10);
    expect(plan.sampleMs).toBe(10);
    expect(plan.backends[0]).toMatchObject({ name: 'a', concurrency: 1, queue: 1000, errorRate: 0 });
    expect(plan.configurations[0]!.retry.enabled).toBe(false);
  });

  it('expands replicas with numbered names', () => {
    const plan = parseFleetConfig({ ...base, backends: [{ ...base.backends[0], count: 3 }] });
    expect(plan.backends.map((b) => b.name)).toEqual(['a-1', 'a-2', 'a-3']);
  });

  it('names the offending field', () => {
    expect(fieldOf((c) => delete c.durationMs)).toBe('durationMs');
    expect(fieldOf((c) => (c.extra = 1))).toBe('extra');
    expect(fieldOf((c) => (c.arrivals = { type: 'uniform' }))).toBe('arrivals.type');
    expect(fieldOf((c) => (c.arrivals = { type: 'poisson', ratePerSec: -1 }))).toBe('arrivals.ratePerSec');
    expect(fieldOf((c) => (c.backends = []))).toBe('backends');
    expect(
      fieldOf(
        (c) =>
          ((c.backends as Record<string, unknown>[])[0]!.serviceTime = { type: 'lognormal', medianMs: 5 }),
      ),
    ).toBe('backends[0].serviceTime.sigma');
    expect(fieldOf((c) => ((c.backends as Record<string, unknown>[])[0]!.concurrency = 0))).toBe(
      'backends[0].concurrency',
    );
    expect(
      fieldOf(
        (c) =>
          ((c.backends as Record<string, unknown>[])[0]!.timeline = [
            { atMs: 500, action: 'down' },
            { atMs: 100, action: 'up' },
          ]),
      ),
    ).toBe('backends[0].timeline[1].atMs');
    expect(
      fieldOf(
        (c) => ((c.backends as Record<string, unknown>[])[0]!.timeline = [{ atMs: 1, action: 'explode' }]),
      ),
    ).toBe('backends[0].timeline[0].action');
    expect(
      fieldOf(
        (c) => ((c.backends as Record<string, unknown>[])[0]!.timeline = [{ atMs: 1, action: 'slow' }]),
      ),
    ).toBe('backends[0].timeline[0].factor');
    expect(fieldOf((c) => (c.backends = [...(c.backends as unknown[]), ...(c.backends as unknown[])]))).toBe(
      'backends[1].name',
    );
  });

  it('validates configurations with the real Balancer and prefixes its field names', () => {
    expect(
      fieldOf((c) => (c.configurations = [{ name: 'x', policy: { name: 'least_request', choiceCount: 1 } }])),
    ).toBe('configurations[0].policy.choiceCount');
    expect(fieldOf((c) => (c.configurations = [{ name: 'x', policy: 'nope' }]))).toBe(
      'configurations[0].policy',
    );
    expect(
      fieldOf(
        (c) => (c.configurations = [{ name: 'x', policy: 'random', balancer: { panicThreshold: 101 } }]),
      ),
    ).toBe('configurations[0].balancer.panicThreshold');
    expect(
      fieldOf((c) => (c.configurations = [{ name: 'x', policy: 'random', balancer: { clock: 1 } }])),
    ).toBe('configurations[0].balancer.clock');
    expect(
      fieldOf((c) => (c.configurations = [{ name: 'x', policy: 'random', balancer: { healthCheck: {} } }])),
    ).toBe('configurations[0].balancer.healthCheck');
    expect(fieldOf((c) => (c.configurations = [{ name: 'x', retry: { maxAttempts: 11 } }]))).toBe(
      'configurations[0].retry.maxAttempts',
    );
    expect(
      fieldOf((c) => (c.configurations = [{ name: 'x', retry: { retryOn: { timeouts: 'yes' } } }])),
    ).toBe('configurations[0].retry.retryOn.timeouts');
    expect(fieldOf((c) => (c.configurations = [{ name: 'x', retry: { backoff: { baseMs: 0 } } }]))).toBe(
      'configurations[0].retry.backoff.baseMs',
    );
    expect(
      fieldOf((c) => (c.configurations = [{ name: 'x', retry: { budget: { percentCanRetry: -1 } } }])),
    ).toBe('configurations[0].retry.budget.percentCanRetry');
    expect(fieldOf((c) => (c.configurations = [{ name: 'x', throttle: { k: 0.5 } }]))).toBe(
      'configurations[0].throttle.k',
    );
  });
});

describe('distributions', () => {
  const mean = (type: Record<string, unknown>, n = 200_000) => {
    const sample = parseDistribution(type, 'd');
    const random = seededRandom(3);
    let sum = 0;
    for (let i = 0; i < n; i++) sum += sample(random);
    return sum / n;
  };

  it('have the documented means', () => {
    expect(mean({ type: 'constant', ms: 4 })).toBe(4);
    expect(mean({ type: 'exponential', meanMs: 10 })).toBeCloseTo(10, 0);
    // Lognormal mean = median × exp(σ²/2).
    expect(mean({ type: 'lognormal', medianMs: 5, sigma: 0.5 })).toBeCloseTo(5 * Math.exp(0.125), 1);
    // Pareto mean = scale × α / (α − 1) for α > 1.
    expect(mean({ type: 'pareto', scaleMs: 2, shape: 3 })).toBeCloseTo(3, 1);
    expect(mean({ type: 'bimodal', fastMs: 1, slowMs: 101, slowFraction: 0.1 })).toBeCloseTo(11, 0);
  });

  it('cap samples at maxMs', () => {
    const sample = parseDistribution({ type: 'pareto', scaleMs: 1, shape: 0.5, maxMs: 50 }, 'd');
    const random = seededRandom(1);
    for (let i = 0; i < 10_000; i++) expect(sample(random)).toBeLessThanOrEqual(50);
  });

  it('reject unknown types and options by name', () => {
    expect(() => parseDistribution({ type: 'gamma' }, 'd')).toThrow(/d\.type: expected one of/);
    expect(() => parseDistribution({ type: 'constant', ms: 1, sigma: 2 }, 'd')).toThrow(/d\.sigma/);
  });
});

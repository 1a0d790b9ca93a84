/**
 * Property: every numeric option is either accepted (exactly when it is in its documented range) or refused with a
 * ConfigError naming the field and the allowed range — never accepted out of range, never a TypeError, never a
 * silent fallback.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Balancer } from '../../src/balancer/balancer.js';
import { ConfigError } from '../../src/errors/config-error.js';
import { RetryPolicy } from '../../src/resilience/retry-policy.js';
import { BalancedDispatcher } from '../../src/undici/dispatcher.js';
import { checkProperty } from '../helpers/properties.js';

interface NumericOption {
  /** Field named in the error. */
  readonly field: string;
  readonly min: number;
  readonly max: number;
  readonly integer: boolean;
  /** Builds the object under test with the value; returns what to close. */
  build(value: unknown): { close(): unknown } | undefined;
}

const OPTIONS: readonly NumericOption[] = [
  {
    field: 'panicThreshold',
    min: 0,
    max: 100,
    integer: false,
    build: (v) => new Balancer({ endpoints: [], panicThreshold: v as number }),
  },
  {
    field: 'closeTimeoutMs',
    min: 0,
    max: 3_600_000,
    integer: false,
    build: (v) => new Balancer({ endpoints: [], closeTimeoutMs: v as number }),
  },
  {
    field: 'outlierDetection.consecutive5xx',
    min: 1,
    max: 1_000_000,
    integer: true,
    build: (v) => new Balancer({ endpoints: [], outlierDetection: { consecutive5xx: v as number } }),
  },
  {
    field: 'retry.maxAttempts',
    min: 1,
    max: 10,
    integer: true,
    build: (v) => {
      new RetryPolicy({ maxAttempts: v as number });
      return undefined;
    },
  },
  {
    field: 'readyTimeoutMs',
    min: 0,
    max: 3_600_000,
    integer: false,
    build: (v) => new BalancedDispatcher({ balancer: { endpoints: [] }, readyTimeoutMs: v as number }),
  },
];

const value = fc.oneof(
  fc.double(),
  fc.integer({ min: -10, max: 2_000_000 }),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -0, 0.5, 1e-9),
  fc.string({ maxLength: 4 }),
  fc.constantFrom(null, true, [], {}, '5'),
);

describe('property: numeric options are in range or a ConfigError naming the field', () => {
  it('holds for Balancer, RetryPolicy and BalancedDispatcher options', () => {
    checkProperty(
      fc.property(fc.constantFrom(...OPTIONS), value, (option, v) => {
        const inRange =
          typeof v === 'number' &&
          Number.isFinite(v) &&
          v >= option.min &&
          v <= option.max &&
          (!option.integer || Number.isInteger(v));
        let built: { close(): unknown } | undefined;
        try {
          built = option.build(v);
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigError);
          expect((error as ConfigError).field).toBe(option.field);
          expect(inRange).toBe(false);
          return;
        }
        void built?.close();
        expect(inRange).toBe(true);
      }),
      { seed: 1431, numRuns: 400 },
    );
  });
});

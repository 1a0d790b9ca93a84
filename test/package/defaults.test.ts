/**
 * One source of truth for option names: every exported `default…Options` object can be passed back where its
 * options are accepted — every key is an option name of the right type. Found by name on every entry point, so a
 * new defaults object without a case here fails the first test.
 */
import { describe, expect, it } from 'vitest';
import * as grpcEntry from '../../src/grpc/index.js';
import * as core from '../../src/index.js';
import { parseBackoffOptions } from '../../src/resilience/backoff.js';
import { parseRetryBudgetOptions } from '../../src/resilience/retry-budget.js';
import { parseDnsResolverOptions } from '../../src/resolvers/dns/options.js';
import * as xdsEntry from '../../src/resolvers/xds/index.js';
import * as simEntry from '../../src/sim/index.js';
import * as undiciEntry from '../../src/undici/index.js';
import { localBootstrap } from '../helpers/xds-fixtures.js';

type Defaults = Readonly<Record<string, unknown>>;

/** How each defaults object is passed back; throws ConfigError if a key is not an option. */
const acceptors: Record<string, (d: Defaults) => unknown> = {
  defaultBalancerOptions: (d) => new core.Balancer({ ...d, endpoints: [] }).close(),
  defaultRoutingOptions: (d) => new core.Balancer({ ...d, endpoints: [] }).close(),
  defaultOutlierDetectionOptions: (d) => core.parseOutlierDetection(d, 'outlierDetection'),
  defaultHealthCheckOptions: (d) => core.parseHealthCheck(d, 'healthCheck'),
  defaultSlowStartOptions: (d) => core.parseSlowStart({ ...d, windowMs: 30_000 }, 'slowStart'),
  defaultLeastRequestOptions: (d) => core.parsePolicyConfig({ ...d, name: 'least_request' }),
  defaultP2cPeakEwmaOptions: (d) => core.parsePolicyConfig({ ...d, name: 'p2c_peak_ewma' }),
  defaultP2cRobustEwmaOptions: (d) => core.parsePolicyConfig({ ...d, name: 'p2c_robust_ewma' }),
  defaultRingHashOptions: (d) => core.parsePolicyConfig({ ...d, name: 'ring_hash' }),
  defaultMaglevOptions: (d) => core.parsePolicyConfig({ ...d, name: 'maglev' }),
  defaultMultiprobeOptions: (d) => core.parsePolicyConfig({ ...d, name: 'multiprobe' }),
  defaultSubsetOptions: (d) => new core.Subset({ ...d, kind: 'aperture' }),
  defaultDynamicApertureOptions: (d) => new core.Subset({ kind: 'aperture', dynamic: d }),
  defaultBackoffOptions: (d) => parseBackoffOptions(d, 'backoff'),
  defaultRetryBudgetOptions: (d) => parseRetryBudgetOptions(d, 'budget'),
  defaultCircuitBreakerOptions: (d) => new core.Balancer({ endpoints: [], circuitBreaker: d }).close(),
  defaultAdaptiveThrottleOptions: (d) => new core.AdaptiveThrottle(d),
  defaultHedgingOptions: (d) => new core.HedgingPolicy({ ...d, delayMs: 50 }),
  defaultRetryPolicyOptions: (d) => new core.RetryPolicy(d),
  defaultDnsResolverOptions: (d) => parseDnsResolverOptions({ ...d, name: 'orders.internal', port: 80 }),
  defaultGrpcLbOptions: (d) => grpcEntry.parseGrpcLbOptions(d),
  defaultOrcaOptions: (d) => grpcEntry.parseOrcaOptions(d, 'orca'),
  defaultXdsResolverOptions: (d) =>
    new xdsEntry.XdsResolver({ ...d, cluster: 'orders', bootstrap: localBootstrap(1) }).close(),
};

const exported = Object.entries({ ...core, ...grpcEntry, ...xdsEntry, ...simEntry, ...undiciEntry }).filter(
  ([name]) => /^default\w*Options$/.test(name),
) as [string, Defaults][];

describe('exported defaults', () => {
  it('every default…Options export has a case here', () => {
    expect(exported.length).toBeGreaterThan(10);
    expect(exported.map(([name]) => name).filter((name) => acceptors[name] === undefined)).toEqual([]);
  });

  it.each(exported)('%s is accepted back as options', async (name, defaults) => {
    await acceptors[name]!(defaults);
  });

  it('the slow-start option is updateIntervalMs, and a wrong name is refused', () => {
    expect(
      core.parseSlowStart({ windowMs: 30_000, updateIntervalMs: 500 }, 'slowStart')?.updateIntervalMs,
    ).toBe(500);
    expect(() => core.parseSlowStart({ windowMs: 30_000, maxUpdateIntervalMs: 500 }, 'slowStart')).toThrow(
      core.ConfigError,
    );
  });
});

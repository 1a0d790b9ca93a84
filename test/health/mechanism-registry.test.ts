/**
 * The health-mechanism port, proved from outside: a mechanism defined entirely in this file — eject endpoints whose
 * metadata says they are drained — registered with one line, working through a real Balancer: its option parsed and
 * validated with the Balancer's, its instance on `balancer.health`, its ejections routing traffic, and a control
 * plane's cluster setting turning it on, replacing it and turning it off. Nothing in src/ names it.
 */
import { describe, expect, it } from 'vitest';
import { Balancer } from '../../src/balancer/balancer.js';
import type { BalancerExtension, ExtensionContext } from '../../src/balancer/extension.js';
import { type HealthMechanism, isPlainObject } from '../../src/balancer/health/mechanism.js';
import { healthMechanisms, registerHealthMechanism } from '../../src/balancer/health/registry.js';
import { parseBalancerOptions } from '../../src/balancer/parse-options.js';
import type { ResolverClusterConfig } from '../../src/balancer/resolver.js';
import { ManualClock } from '../../src/clock.js';
import { readObject, readString } from '../../src/config/validate.js';
import type { EndpointInput } from '../../src/endpoint.js';
import { ConfigError } from '../../src/errors/config-error.js';
import { seededRandom } from '../../src/random.js';
import { manualResolver } from '../helpers/manual-resolver.js';

// ---- the mechanism: everything it needs, in this file ---------------------------------------------------------

interface DrainedOptions {
  /** Metadata key whose value `'true'` means drained. Default `'drained'`. */
  readonly metadataKey: string;
}

/** Ejects every endpoint whose metadata has `metadataKey: 'true'`; recomputed at each picker rebuild. */
class DrainedEjector implements BalancerExtension {
  readonly options: DrainedOptions;
  readonly #ejected = new Set<import('../../src/balancer/endpoint-state.js').EndpointState>();
  #context: ExtensionContext | undefined;
  closed = false;

  constructor(options: DrainedOptions) {
    this.options = options;
  }
  attach(context: ExtensionContext): void {
    this.#context = context;
  }
  beforeRebuild(): void {
    for (const state of this.#context?.states() ?? []) {
      const drained = state.endpoint.metadata[this.options.metadataKey] === 'true';
      if (drained) this.#ejected.add(state);
      else if (this.#ejected.delete(state)) state.ejected = false;
      if (drained) state.ejected = true;
    }
  }
  /** Gives back what this instance ejected (the next rebuild lets a successor decide afresh). */
  release(): void {
    for (const state of this.#ejected) state.ejected = false;
    this.#ejected.clear();
  }
  close(): void {
    this.closed = true;
  }
}

function parseDrained(raw: unknown, path: string): DrainedOptions | undefined {
  if (raw === undefined || raw === false) return undefined;
  if (raw === true) return { metadataKey: 'drained' };
  const o = readObject(raw, path, ['metadataKey']);
  return { metadataKey: readString(o, 'metadataKey', path) ?? 'drained' };
}

const drainedEjection: HealthMechanism<DrainedOptions, DrainedEjector> = {
  option: 'drainedEjection',
  property: 'drainedEjector',
  parse: parseDrained,
  create: (options) => new DrainedEjector(options),
  // The control plane's wire shape names the key `key`.
  fromCluster: (sent) => (isPlainObject(sent) && 'key' in sent ? { metadataKey: sent.key } : sent),
  retire(previous) {
    previous.release();
    previous.close();
  },
};

declare module '../../src/balancer/health/mechanism.js' {
  interface HealthExtensions {
    readonly drainedEjector: DrainedEjector | undefined;
  }
}
declare module '../../src/balancer/options.js' {
  interface BalancerOptions {
    readonly drainedEjection?: boolean | { readonly metadataKey?: string };
  }
}

// The one registration line.
registerHealthMechanism(drainedEjection);

// ---- the tests ----------------------------------------------------------------------------------------------------

const drained = (host: string, key = 'drained'): EndpointInput => ({
  host,
  port: 80,
  metadata: { [key]: 'true' },
});

/** Addresses a round-robin balancer picks in `n` picks (each lease released at once). */
function picked(b: Balancer, n = 12): Set<string> {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const lease = b.pick();
    if (lease === undefined) break;
    seen.add(lease.endpoint.address);
    lease.release();
  }
  return seen;
}

describe('a health mechanism registered from outside src/', () => {
  it('is registered after the built-ins, in the health phase (before slow start)', () => {
    expect(healthMechanisms().map((m) => m.option)).toEqual([
      'outlierDetection',
      'healthCheck',
      'drainedEjection',
      'slowStart',
    ]);
  });

  it('ejects drained endpoints through a real Balancer, and returns them when no longer drained', async () => {
    const b = new Balancer({
      endpoints: ['a:80', drained('b'), 'c:80'],
      policy: 'round_robin',
      random: seededRandom(3),
      drainedEjection: true,
    });
    expect(b.health.drainedEjector).toBeInstanceOf(DrainedEjector);
    expect(b.health.list).toContain(b.health.drainedEjector);
    expect(picked(b)).toEqual(new Set(['a:80', 'c:80']));
    expect(b.stats().endpoints.find((e) => e.address === 'b:80')?.condition).toBe('ejected');

    b.setEndpoints(['a:80', 'b:80', 'c:80']);
    expect(picked(b)).toEqual(new Set(['a:80', 'b:80', 'c:80']));
    await b.close();
  });

  it('is off without its option: nothing built, drained metadata ignored', async () => {
    const b = new Balancer({ endpoints: ['a:80', drained('b')], policy: 'round_robin' });
    expect(b.health.drainedEjector).toBeUndefined();
    expect(picked(b)).toEqual(new Set(['a:80', 'b:80']));
    await b.close();
  });

  it('has its option validated with the Balancer’s: a ConfigError naming the field, from both entry points', () => {
    const bad = { endpoints: ['a:80'], drainedEjection: { metadataKey: 5 } };
    for (const attempt of [() => new Balancer(bad as never), () => parseBalancerOptions(bad)]) {
      expect(attempt).toThrow(ConfigError);
      expect(attempt).toThrow(/drainedEjection\.metadataKey/);
    }
    expect(() => parseBalancerOptions({ endpoints: ['a:80'], drainedEjectionTypo: true })).toThrow(
      /drainedEjectionTypo/,
    );
    expect(
      parseBalancerOptions({ endpoints: ['a:80'], drainedEjection: true }).health.drainedEjection,
    ).toEqual({
      metadataKey: 'drained',
    });
  });

  it('refuses a second registration under a taken option or a Balancer option name', () => {
    expect(() => registerHealthMechanism(drainedEjection)).toThrow(ConfigError);
    expect(() => registerHealthMechanism({ ...drainedEjection, option: 'circuitBreaker' })).toThrow(
      ConfigError,
    );
    expect(() =>
      registerHealthMechanism({ ...drainedEjection, option: 'other', property: 'outlierDetector' }),
    ).toThrow(ConfigError);
    expect(() => registerHealthMechanism({ ...drainedEjection, option: 'other', property: 'list' })).toThrow(
      ConfigError,
    );
    expect(healthMechanisms().map((m) => m.option)).not.toContain('other');
  });
});

describe('the mechanism set by a control plane (ResolverUpdate.cluster)', () => {
  function setup() {
    const resolver = manualResolver();
    const b = new Balancer({
      resolver,
      policy: 'round_robin',
      clock: new ManualClock(0),
      random: seededRandom(5),
    });
    const errors: Error[] = [];
    b.on('resolver-error', (e) => errors.push(e));
    const push = (cluster: ResolverClusterConfig, endpoints: EndpointInput[]) =>
      resolver.listener!.onUpdate({ endpoints, cluster });
    return { b, push, errors };
  }
  const endpoints = ['a:80', drained('b', 'drain'), drained('c')];

  it('turns on, is replaced on a real change only, and turns off, with routing following each step', async () => {
    const t = setup();
    t.push({}, endpoints);
    expect(t.b.health.drainedEjector).toBeUndefined();
    expect(picked(t.b)).toEqual(new Set(['a:80', 'b:80', 'c:80']));

    // The control plane's shape ({ key }) is mapped onto the option ({ metadataKey }), then parsed.
    t.push({ drainedEjection: { key: 'drain' } }, endpoints);
    const first = t.b.health.drainedEjector;
    expect(first?.options).toEqual({ metadataKey: 'drain' });
    expect(picked(t.b)).toEqual(new Set(['a:80', 'c:80']));

    t.push({ drainedEjection: { key: 'drain' } }, endpoints); // resent unchanged: same instance
    expect(t.b.health.drainedEjector).toBe(first);

    t.push({ drainedEjection: { key: 'drained' } }, endpoints); // changed: replaced, the old one retired
    expect(first?.closed).toBe(true);
    expect(t.b.health.drainedEjector).not.toBe(first);
    expect(picked(t.b)).toEqual(new Set(['a:80', 'b:80']));

    t.push({}, endpoints); // no longer sent: the code option (off) applies again
    expect(t.b.health.drainedEjector).toBeUndefined();
    expect(picked(t.b)).toEqual(new Set(['a:80', 'b:80', 'c:80']));
    expect(t.errors).toEqual([]);
    await t.b.close();
  });

  it('rejects a bad setting whole, keeping the last good state', async () => {
    const t = setup();
    t.push({ drainedEjection: { key: 'drain' } }, endpoints);
    const inForce = t.b.health.drainedEjector;
    t.push({ drainedEjection: { key: 7 } }, ['z:80']);
    expect(t.errors).toHaveLength(1);
    expect(t.errors[0]).toBeInstanceOf(ConfigError);
    expect(t.errors[0]!.message).toMatch(/resolver\.cluster\.drainedEjection\.metadataKey/);
    expect(t.b.health.drainedEjector).toBe(inForce);
    expect(picked(t.b)).toEqual(new Set(['a:80', 'c:80']));
    await t.b.close();
  });
});

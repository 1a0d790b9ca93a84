/**
 * The simulator's input: a fleet (backends with service times, capacity and timelines), a workload (arrivals,
 * clients, keys) and the configurations to compare. Plain JSON, so `npm run simulate -- --config fleet.json` can
 * test a load-balancing configuration before it meets production; validated strictly, every mistake a
 * {@link ConfigError} naming the field (`backends[2].timeline[0].atMs: expected a number from 0 to …`).
 */

import type { BalancerOptions } from '../balancer/balancer.js';
import { parseBalancerOptions } from '../balancer/parse-options.js';
import type { PolicyConfig } from '../balancer/policy/registry.js';
import { ManualClock } from '../clock.js';
import {
  checkNumber,
  join,
  type RawOptions,
  readBoolean,
  readNumber,
  readObject,
  readString,
} from '../config/validate.js';
import { ConfigError } from '../errors/config-error.js';
import type { AdaptiveThrottleOptions } from '../resilience/adaptive-throttle.js';
import { type DistributionConfig, parseDistribution, type Sampler } from './distributions.js';
import { withFieldPrefix } from './field-prefix.js';
import { parseRetry, type RetryConfig, type RetryPlan } from './retry.js';

/** A change in a backend's behaviour at virtual time `atMs`. */
export type TimelineEvent =
  /** Service times multiply by `factor` from now on (1 restores normal speed). */
  | { readonly atMs: number; readonly action: 'slow'; readonly factor: number }
  /** The process dies: requests in service or queued fail (`reset`), new connections are refused (`connect`). */
  | { readonly atMs: number; readonly action: 'down' }
  /**
   * The process is back. For `warmupMs` its service times start `warmupFactor` times slower and recover linearly
   * (cold caches, JIT): the case slow start exists for.
   */
  | {
      readonly atMs: number;
      readonly action: 'up';
      readonly warmupMs?: number;
      readonly warmupFactor?: number;
    }
  /** From now on a fraction `rate` of requests is answered at once with a 503 (0 ends a burst). */
  | { readonly atMs: number; readonly action: 'errors'; readonly rate: number }
  /** Service discovery stops / starts listing the backend (every client's balancer gets the new endpoint set). */
  | { readonly atMs: number; readonly action: 'deregister' | 'register' };

/** One backend (or `count` identical ones), as JSON. */
export interface BackendConfig {
  /** Name shown in results; replicas are `name-1` … `name-N`. */
  readonly name: string;
  /** Identical replicas. Integer from 1 to 1,000. Default 1. */
  readonly count?: number;
  readonly serviceTime: DistributionConfig;
  /** Requests served at once (worker threads, event-loop slots). Integer from 1 to 100,000. Default 1. */
  readonly concurrency?: number;
  /** Requests that may wait for a worker; beyond it, requests are rejected (503). From 0 to 1,000,000. Default 1,000. */
  readonly queue?: number;
  /** Fraction of requests answered with a 503, from 0 to 1. Default 0. */
  readonly errorRate?: number;
  /** Weight announced to the balancers. Default 1. */
  readonly weight?: number;
  /** Listed in service discovery at the start. Default true. */
  readonly registered?: boolean;
  readonly timeline?: readonly TimelineEvent[];
  /**
   * Rare whole-process pauses (stop-the-world GC, a noisy neighbour): each request that starts service triggers,
   * with `probability` (0–1), a pause of `durationMs` (0 excluded – 3,600,000) that delays every request in service
   * or starting during it. Default none.
   */
  readonly pauses?: { readonly probability: number; readonly durationMs: number };
}

/** Arrival process of the whole client population. */
export type ArrivalsConfig =
  | { readonly type: 'poisson'; readonly ratePerSec: number }
  /** Poisson at `ratePerSec`, but at `burstRatePerSec` for the first `burstMs` of every `periodMs`. */
  | {
      readonly type: 'bursty';
      readonly ratePerSec: number;
      readonly burstRatePerSec: number;
      readonly burstMs: number;
      readonly periodMs: number;
    };

/** One configuration to compare: a policy plus any other Balancer options and a retry policy. */
export interface ConfigurationConfig {
  readonly name: string;
  readonly policy: PolicyConfig;
  /** Other Balancer options (panicThreshold, health options, …), passed to the real Balancer. */
  readonly balancer?: Readonly<Record<string, unknown>>;
  readonly retry?: RetryConfig;
  /** Client-side adaptive throttling (AdaptiveThrottleOptions: `k` 2, `windowMs` 120,000, …). Default off. */
  readonly throttle?: AdaptiveThrottleOptions;
}

/** A whole simulation, as JSON. */
export interface FleetConfig {
  readonly name?: string;
  readonly description?: string;
  /** PRNG seed; the same seed gives the same results. Default 1. */
  readonly seed?: number;
  /** Virtual time during which requests arrive, in ms. From 1 to 86,400,000. */
  readonly durationMs: number;
  /** Client processes, each with its own Balancer; arrivals split evenly. Integer from 1 to 10,000. Default 10. */
  readonly clients?: number;
  readonly arrivals: ArrivalsConfig;
  /** Per-attempt timeout in ms (0: none). Default 0. */
  readonly timeoutMs?: number;
  /** Hash keys for hashing policies: `count` keys drawn Zipf(`skew`) (0 = uniform). Default none. */
  readonly keys?: { readonly count: number; readonly skew?: number };
  /** Width of a bucket in the load-over-time chart, in ms. Default durationMs / 100. */
  readonly sampleMs?: number;
  /**
   * Client-side stalls (a GC or a blocked event loop in the client process): each client stalls at Poisson times,
   * `ratePerSec` (0–1,000) on average, for `durationMs` (0 excluded – 3,600,000). A stalled client handles nothing:
   * every response it is waiting for, and every request it would send, waits for the stall to end — so all its
   * in-flight requests look slow at once, whichever backend served them. Default none.
   */
  readonly clientStalls?: { readonly ratePerSec: number; readonly durationMs: number };
  /** Network round-trip delay added to every answer (jitter), a distribution as for service times. Default none. */
  readonly networkDelay?: DistributionConfig;
  readonly backends: readonly BackendConfig[];
  readonly configurations: readonly ConfigurationConfig[];
}

/** A validated backend replica. */
export interface BackendPlan {
  readonly name: string;
  /** The config entry it came from (replicas share it); results group by it. */
  readonly group: string;
  readonly index: number;
  readonly serviceTime: Sampler;
  readonly concurrency: number;
  readonly queue: number;
  readonly errorRate: number;
  readonly weight: number;
  readonly registered: boolean;
  readonly timeline: readonly TimelineEvent[];
  readonly pauses: { readonly probability: number; readonly durationMs: number } | undefined;
}

/** A validated configuration. */
export interface ConfigurationPlan {
  readonly name: string;
  readonly policy: PolicyConfig;
  readonly balancer: Readonly<Record<string, unknown>>;
  readonly retry: RetryPlan;
}

/** A validated simulation. */
export interface SimulationPlan {
  readonly name: string;
  readonly description: string;
  readonly seed: number;
  readonly durationMs: number;
  readonly clients: number;
  readonly arrivals: ArrivalsConfig;
  readonly timeoutMs: number;
  readonly keys: { readonly count: number; readonly skew: number } | undefined;
  readonly sampleMs: number;
  readonly clientStalls: { readonly ratePerSec: number; readonly durationMs: number } | undefined;
  readonly networkDelay: Sampler | undefined;
  readonly backends: readonly BackendPlan[];
  readonly configurations: readonly ConfigurationPlan[];
}

const FLEET_KEYS = [
  'name',
  'description',
  'seed',
  'durationMs',
  'clients',
  'arrivals',
  'timeoutMs',
  'keys',
  'sampleMs',
  'clientStalls',
  'networkDelay',
  'backends',
  'configurations',
];
const BACKEND_KEYS = [
  'name',
  'count',
  'serviceTime',
  'concurrency',
  'queue',
  'errorRate',
  'weight',
  'registered',
  'timeline',
  'pauses',
];
const ACTIONS = ['slow', 'down', 'up', 'errors', 'deregister', 'register'] as const;
/** Balancer options the simulator sets itself. */
const RESERVED_BALANCER_KEYS = ['endpoints', 'resolver', 'clock', 'random', 'name', 'policy'];
/**
 * Balancer options that would do real I/O from inside a simulation: active health checks probe the endpoints over
 * the network, and simulated endpoints (`server-1:80`) do not exist there. Passive outlier detection covers health.
 */
const UNSIMULATED_BALANCER_KEYS = ['healthCheck'];
const MAX_MS = 86_400_000;

/** Validates a simulation description. Throws {@link ConfigError} naming the first bad field. */
export function parseFleetConfig(input: unknown): SimulationPlan {
  const raw = readObject(input, '', FLEET_KEYS);
  const durationMs = checkNumber(raw.durationMs, 'durationMs', { min: 1, max: MAX_MS });
  const backends = parseBackends(raw.backends, durationMs);
  const plan: SimulationPlan = {
    name: readString(raw, 'name', '') ?? 'fleet',
    description: typeof raw.description === 'string' ? raw.description : '',
    seed: readNumber(raw, 'seed', '', { integer: true, min: 0, max: 2 ** 32 - 1 }, 1),
    durationMs,
    clients: readNumber(raw, 'clients', '', { integer: true, min: 1, max: 10_000 }, 10),
    arrivals: parseArrivals(raw.arrivals),
    timeoutMs: readNumber(raw, 'timeoutMs', '', { min: 0, max: MAX_MS }, 0),
    keys: parseKeys(raw.keys),
    sampleMs: readNumber(raw, 'sampleMs', '', { min: 1, max: MAX_MS }, Math.max(1, durationMs / 100)),
    clientStalls: parseClientStalls(raw.clientStalls),
    networkDelay:
      raw.networkDelay === undefined ? undefined : parseDistribution(raw.networkDelay, 'networkDelay'),
    backends,
    configurations: parseConfigurations(raw.configurations, backends),
  };
  if (plan.durationMs / plan.sampleMs > 10_000) {
    throw new ConfigError({
      field: 'sampleMs',
      allowed: `at least durationMs / 10,000 (${plan.durationMs / 10_000})`,
      received: plan.sampleMs,
    });
  }
  return plan;
}

function parseArrivals(input: unknown): ArrivalsConfig {
  const type = (input as { type?: unknown } | undefined)?.type;
  const rate = { min: 0, exclusiveMin: true, max: 10_000_000 } as const;
  if (type === 'poisson') {
    const obj = readObject(input, 'arrivals', ['type', 'ratePerSec']);
    return { type, ratePerSec: checkNumber(obj.ratePerSec, 'arrivals.ratePerSec', rate) };
  }
  if (type === 'bursty') {
    const obj = readObject(input, 'arrivals', [
      'type',
      'ratePerSec',
      'burstRatePerSec',
      'burstMs',
      'periodMs',
    ]);
    const periodMs = checkNumber(obj.periodMs, 'arrivals.periodMs', { min: 1, max: MAX_MS });
    return {
      type,
      ratePerSec: checkNumber(obj.ratePerSec, 'arrivals.ratePerSec', rate),
      burstRatePerSec: checkNumber(obj.burstRatePerSec, 'arrivals.burstRatePerSec', rate),
      burstMs: checkNumber(obj.burstMs, 'arrivals.burstMs', { min: 0, max: periodMs }),
      periodMs,
    };
  }
  throw new ConfigError({ field: 'arrivals.type', allowed: 'one of "poisson", "bursty"', received: type });
}

function parseKeys(input: unknown): SimulationPlan['keys'] {
  if (input === undefined) return undefined;
  const obj = readObject(input, 'keys', ['count', 'skew']);
  return {
    count: checkNumber(obj.count, 'keys.count', { integer: true, min: 1, max: 1_000_000 }),
    skew: readNumber(obj, 'skew', 'keys', { min: 0, max: 5 }, 0),
  };
}

function parseBackends(input: unknown, durationMs: number): BackendPlan[] {
  if (!Array.isArray(input) || input.length === 0) {
    throw new ConfigError({ field: 'backends', allowed: 'a non-empty array of backends', received: input });
  }
  const out: BackendPlan[] = [];
  const groups = new Set<string>();
  input.forEach((entry, i) => {
    const path = `backends[${i}]`;
    const raw = readObject(entry, path, BACKEND_KEYS);
    const name = readString(raw, 'name', path);
    if (name === undefined || !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name) || groups.has(name)) {
      throw new ConfigError({
        field: join(path, 'name'),
        allowed: 'a unique name of letters, digits, ".", "_" and "-"',
        received: raw.name,
      });
    }
    groups.add(name);
    const count = readNumber(raw, 'count', path, { integer: true, min: 1, max: 1_000 }, 1);
    const serviceTime = parseDistribution(raw.serviceTime, join(path, 'serviceTime'));
    const common = {
      group: name,
      serviceTime,
      concurrency: readNumber(raw, 'concurrency', path, { integer: true, min: 1, max: 100_000 }, 1),
      queue: readNumber(raw, 'queue', path, { integer: true, min: 0, max: 1_000_000 }, 1_000),
      errorRate: readNumber(raw, 'errorRate', path, { min: 0, max: 1 }, 0),
      weight: readNumber(raw, 'weight', path, { min: 0, exclusiveMin: true, max: 1_000_000 }, 1),
      registered: readBoolean(raw, 'registered', path, true),
      timeline: parseTimeline(raw.timeline, join(path, 'timeline'), durationMs),
      pauses: parsePauses(raw.pauses, join(path, 'pauses')),
    };
    for (let k = 1; k <= count; k++) {
      out.push({ ...common, name: count === 1 ? name : `${name}-${k}`, index: out.length });
    }
  });
  if (out.length > 10_000) {
    throw new ConfigError({
      field: 'backends',
      allowed: 'at most 10,000 replicas in all',
      received: out.length,
    });
  }
  return out;
}

function parseClientStalls(input: unknown): SimulationPlan['clientStalls'] {
  if (input === undefined) return undefined;
  const obj = readObject(input, 'clientStalls', ['ratePerSec', 'durationMs']);
  return {
    ratePerSec: checkNumber(obj.ratePerSec, 'clientStalls.ratePerSec', { min: 0, max: 1000 }),
    durationMs: checkNumber(obj.durationMs, 'clientStalls.durationMs', {
      min: 0,
      exclusiveMin: true,
      max: 3_600_000,
    }),
  };
}

function parsePauses(input: unknown, path: string): BackendPlan['pauses'] {
  if (input === undefined) return undefined;
  const obj = readObject(input, path, ['probability', 'durationMs']);
  return {
    probability: checkNumber(obj.probability, join(path, 'probability'), { min: 0, max: 1 }),
    durationMs: checkNumber(obj.durationMs, join(path, 'durationMs'), {
      min: 0,
      exclusiveMin: true,
      max: 3_600_000,
    }),
  };
}

function parseTimeline(input: unknown, path: string, durationMs: number): TimelineEvent[] {
  if (input === undefined) return [];
  if (!Array.isArray(input))
    throw new ConfigError({ field: path, allowed: 'an array of events', received: input });
  let last = 0;
  return input.map((entry, i) => {
    const at = `${path}[${i}]`;
    const action = (entry as { action?: unknown } | undefined)?.action;
    if (!ACTIONS.includes(action as (typeof ACTIONS)[number])) {
      throw new ConfigError({
        field: join(at, 'action'),
        allowed: `one of ${ACTIONS.map((a) => `"${a}"`).join(', ')}`,
        received: action,
      });
    }
    const keys = ['atMs', 'action', ...timelineKeys(action as TimelineEvent['action'])];
    const obj = readObject(entry, at, keys);
    const atMs = checkNumber(obj.atMs, join(at, 'atMs'), { min: last, max: durationMs });
    last = atMs;
    return parseTimelineEvent(obj, at, atMs, action as TimelineEvent['action']);
  });
}

function timelineKeys(action: TimelineEvent['action']): string[] {
  if (action === 'slow') return ['factor'];
  if (action === 'up') return ['warmupMs', 'warmupFactor'];
  if (action === 'errors') return ['rate'];
  return [];
}

function parseTimelineEvent(obj: RawOptions, at: string, atMs: number, action: TimelineEvent['action']) {
  switch (action) {
    case 'slow':
      return {
        atMs,
        action,
        factor: checkNumber(obj.factor, join(at, 'factor'), { min: 0.001, max: 10_000 }),
      };
    case 'up':
      return {
        atMs,
        action,
        warmupMs: readNumber(obj, 'warmupMs', at, { min: 0, max: MAX_MS }, 0),
        warmupFactor: readNumber(obj, 'warmupFactor', at, { min: 1, max: 10_000 }, 1),
      };
    case 'errors':
      return { atMs, action, rate: checkNumber(obj.rate, join(at, 'rate'), { min: 0, max: 1 }) };
    default:
      return { atMs, action };
  }
}

function parseConfigurations(input: unknown, backends: readonly BackendPlan[]): ConfigurationPlan[] {
  if (!Array.isArray(input) || input.length === 0) {
    throw new ConfigError({
      field: 'configurations',
      allowed: 'a non-empty array of configurations',
      received: input,
    });
  }
  const names = new Set<string>();
  return input.map((entry, i) => {
    const path = `configurations[${i}]`;
    const raw = readObject(entry, path, ['name', 'policy', 'balancer', 'retry', 'throttle']);
    const name = readString(raw, 'name', path);
    if (name === undefined || names.has(name)) {
      throw new ConfigError({
        field: join(path, 'name'),
        allowed: 'a unique non-empty string',
        received: raw.name,
      });
    }
    names.add(name);
    const balancer = readObject(raw.balancer, join(path, 'balancer'), anyKeyExcept(raw.balancer));
    for (const key of UNSIMULATED_BALANCER_KEYS) {
      if (balancer[key] !== undefined && balancer[key] !== false) {
        throw new ConfigError({
          field: join(path, `balancer.${key}`),
          allowed: 'absent: active health checks do real network I/O, which a simulation cannot',
          received: balancer[key],
        });
      }
    }
    const plan: ConfigurationPlan = {
      name,
      policy: (raw.policy ?? 'p2c_robust_ewma') as PolicyConfig,
      balancer,
      retry: parseRetry(raw.retry, raw.throttle, path),
    };
    checkWithRealBalancer(plan, path, backends);
    return plan;
  });
}

/** Every key the user gave except the ones the simulator owns, which fail by name. */
function anyKeyExcept(raw: unknown): string[] {
  if (typeof raw !== 'object' || raw === null) return [];
  return Object.keys(raw).filter((key) => !RESERVED_BALANCER_KEYS.includes(key));
}

/**
 * Runs the Balancer's own validation (policy options, health options from other modules) on the configuration now,
 * through the pure `parseBalancerOptions`, with field names prefixed by where they sit in the fleet file.
 */
function checkWithRealBalancer(
  plan: ConfigurationPlan,
  path: string,
  backends: readonly BackendPlan[],
): void {
  withFieldPrefix(
    () =>
      parseBalancerOptions({
        ...(plan.balancer as Partial<BalancerOptions>),
        policy: plan.policy,
        endpoints: backends.map((b) => ({ host: b.name, port: 80, weight: b.weight })),
        clock: new ManualClock(),
      }),
    path,
    (field) => (field.startsWith('policy') ? field : join('balancer', field)),
  );
}

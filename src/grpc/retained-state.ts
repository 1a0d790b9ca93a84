/**
 * Endpoint state kept between a destroyed instance of the `switchyard` policy and the next one of the same channel.
 *
 * grpc-js destroys a channel's LB policy (and its resolver) when the channel goes idle (`grpc.client_idle_timeout_ms`)
 * and the same way when it is closed, and builds a new one on the next call; the policy cannot tell the two apart.
 * Keeping the Balancer alive would leak it and its timers for every closed channel. So a destroyed policy copies what
 * its Balancer learned about each endpoint into this store — no timers, no Balancer — and the next instance takes it
 * back as endpoints join its Balancer (state-keeper.ts). Entries expire after the config's `stateRetentionMs`, and the
 * store holds at most {@link MAX_RETAINED_ENDPOINTS}, dropping the oldest first, so closed channels cost bounded memory
 * for a bounded time.
 *
 * An entry is keyed by channel key × endpoint address. The channel key is what the policy can see of its channel:
 * grpc-js hands each policy instance a fresh helper and no target, only the channel options and the LB config. So the
 * key is the token `channelOptions()` puts into the options (one per call: clients built from one result share it)
 * and the `balancer` options (the Balancer a config builds, as `SwitchyardLbConfig.sameBalancer` compares).
 *
 * Taking an entry removes it: a saved state is adopted by at most one policy instance, as copies into that instance's
 * own Balancer, so two live channels with the same key never share mutable state; the first to connect to an address
 * gets its saved state, later ones start that endpoint afresh. When several instances save the same address, the
 * newest save replaces the older.
 */
import type { ChannelOptions } from '@grpc/grpc-js';
import type { EndpointState } from '../balancer/endpoint-state.js';
import { type Clock, systemClock, type TimerHandle } from '../clock.js';
import { OutlierRecord } from '../health/outlier-record.js';

/**
 * The channel option `channelOptions()` sets to a token unique to each call, so the policy can tell channels built
 * from different options apart. The `grpc.internal.no_subchannel` prefix keeps grpc-js from making it part of the
 * subchannel pool key: channels still share connections as before (pitfall 10).
 */
export const RETENTION_KEY_OPTION = 'grpc.internal.no_subchannel.switchyard.retention_key';

/**
 * Most endpoint states kept at once, over every channel in the process. Each is a few hundred bytes (~8 MB at the
 * bound); past it the oldest saves are dropped. Large enough for a few channels over thousands of endpoints each.
 */
export const MAX_RETAINED_ENDPOINTS = 20_000;

/** Fewest ms between two expiry sweeps: entries live up to this long past their expiry, and sweeps stay rare. */
const SWEEP_SPACING_MS = 1_000;

/** The latency estimator's fields of {@link EndpointState} (load/peak-ewma.ts, load/robust-ewma.ts), copied as they are. */
export const RTT_FIELDS = [
  'rttEstimate',
  'rttStamp',
  'rttObserved',
  'rttSuspect',
  'rttSuspectAt',
  'rttSuspectCount',
  'rttBase',
  'rttBaseStamp',
] as const satisfies readonly (keyof EndpointState)[];

type RttField = (typeof RTT_FIELDS)[number];

/** What is kept of one endpoint: copies, never objects a Balancer still uses. Times are on the Balancer's clock. */
export interface RetainedEndpoint {
  /** When the state was saved (ms, Balancer clock): it was live until then. */
  readonly savedAt: number;
  readonly rtt: Readonly<Pick<EndpointState, RttField>>;
  readonly cancels: number;
  readonly successes: number;
  readonly failures: number;
  /** When the endpoint became routable, for slow start's ramp. */
  readonly activeSince: number;
  /** Outlier detection's record (counters, ejection, multiplier), when detection was on. */
  readonly outlier: OutlierRecord | undefined;
}

interface Entry {
  readonly endpoint: RetainedEndpoint;
  /** On the store's clock. */
  readonly expiresAt: number;
}

/** The channel key of a policy instance: the `channelOptions()` token, if any, and the `balancer` options. */
export function retentionKey(options: ChannelOptions, balancerOptions: unknown): string {
  const token = options[RETENTION_KEY_OPTION];
  return `${typeof token === 'string' ? token : ''}\n${JSON.stringify(balancerOptions)}`;
}

let tokens = 0;

/** A fresh token for {@link RETENTION_KEY_OPTION}. */
export function nextRetentionToken(): string {
  tokens++;
  return `c${tokens}`;
}

/** Saved endpoint states by channel key and address, each until its expiry, at most `maxEndpoints` of them. */
export class RetainedStateStore {
  readonly #clock: Clock;
  readonly #maxEndpoints: number;
  /** In save order, oldest first (a save moves its entry to the end). */
  readonly #entries = new Map<string, Entry>();
  #timer: TimerHandle | undefined;
  #timerAt = Number.POSITIVE_INFINITY;

  /**
   * @param options.clock for expiry; default the system clock, whose timers are unref'd (the sweep never keeps a
   *   process alive).
   * @param options.maxEndpoints most entries kept; default {@link MAX_RETAINED_ENDPOINTS}.
   */
  constructor(options: { clock?: Clock; maxEndpoints?: number } = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#maxEndpoints = options.maxEndpoints ?? MAX_RETAINED_ENDPOINTS;
  }

  /** Entries held now (expired ones included until the next sweep). */
  get size(): number {
    return this.#entries.size;
  }

  /** Keeps `endpoint` for `ttlMs` (0: not kept), replacing an older save of the same key and address. */
  keep(channelKey: string, address: string, endpoint: RetainedEndpoint, ttlMs: number): void {
    if (!(ttlMs > 0)) return;
    const id = entryId(channelKey, address);
    const expiresAt = this.#clock.now() + ttlMs;
    this.#entries.delete(id);
    this.#entries.set(id, { endpoint, expiresAt });
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.#maxEndpoints) break;
      this.#entries.delete(oldest);
    }
    this.#arm(expiresAt);
  }

  /** Removes and returns the saved state of `address` under `channelKey`, unless there is none or it expired. */
  take(channelKey: string, address: string): RetainedEndpoint | undefined {
    if (this.#entries.size === 0) return undefined;
    const id = entryId(channelKey, address);
    const entry = this.#entries.get(id);
    if (entry === undefined) return undefined;
    this.#entries.delete(id);
    if (this.#entries.size === 0) this.#disarm();
    return entry.expiresAt > this.#clock.now() ? entry.endpoint : undefined;
  }

  /** Forgets everything and stops the sweep. */
  clear(): void {
    this.#entries.clear();
    this.#disarm();
  }

  #arm(at: number): void {
    if (this.#timerAt <= at) return;
    this.#timer?.cancel();
    const now = this.#clock.now();
    const delay = Math.max(at - now, SWEEP_SPACING_MS);
    this.#timerAt = now + delay;
    this.#timer = this.#clock.setTimer(this.#sweep, delay);
  }

  #disarm(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
  }

  readonly #sweep = (): void => {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const now = this.#clock.now();
    let next = Number.POSITIVE_INFINITY;
    for (const [id, entry] of this.#entries) {
      if (entry.expiresAt <= now) this.#entries.delete(id);
      else if (entry.expiresAt < next) next = entry.expiresAt;
    }
    if (next !== Number.POSITIVE_INFINITY) this.#arm(next);
  };
}

function entryId(channelKey: string, address: string): string {
  return `${channelKey}\n${address}`;
}

/** The process-wide store every `switchyard` policy instance uses. */
export const retainedState = new RetainedStateStore();

/** Copies what `state` has learned (never in-flight counts: a destroyed policy has none that matter). */
export function saveEndpoint(state: EndpointState, now: number): RetainedEndpoint {
  const rtt = {} as Record<RttField, number | boolean>;
  for (const field of RTT_FIELDS) rtt[field] = state[field];
  return {
    savedAt: now,
    rtt: rtt as RetainedEndpoint['rtt'],
    cancels: state.cancels,
    successes: state.successes,
    failures: state.failures,
    activeSince: state.activeSince,
    outlier: state.outlier === undefined ? undefined : Object.assign(new OutlierRecord(), state.outlier),
  };
}

/**
 * Endpoint states kept now from destroyed `switchyard` policy instances (channels gone idle or closed), not yet taken
 * back or expired. For diagnostics and tests.
 */
export function retainedEndpointCount(): number {
  return retainedState.size;
}

/**
 * Forgets every kept endpoint state: channels waking from idle start afresh. For tests that reuse servers and
 * configs, or after a deployment made what was learned about the servers meaningless.
 */
export function clearRetainedState(): void {
  retainedState.clear();
}

/**
 * Slow start (Envoy `SlowStartConfig`): an endpoint that is new, or healthy again after an ejection or failed
 * active checks, ramps its effective weight up over `windowMs` instead of taking its full share at once — a cold
 * JVM, an empty cache or a freshly restarted process answers the first seconds of full traffic slowly or not at
 * all. Envoy's curve:
 *
 *   factor(t) = max(minWeightPercent / 100, (max(1, t) / window) ^ (1 / aggression))   while t < window, else 1
 *
 * with t the time since the endpoint became healthy. Aggression 1 is linear; above 1 ramps fast early.
 *
 * The weight is recomputed at every picker rebuild (the `beforeRebuild` hook), and while any endpoint is ramping
 * the extension asks for a rebuild every `updateIntervalMs`. It applies to every policy that reads weights
 * (`weighted_round_robin`, `random`, `least_request`, `p2c_peak_ewma`); `round_robin` and hash policies ignore
 * weights by design.
 */
import type { EndpointState } from '../balancer/endpoint-state.js';
import type { BalancerExtension, ExtensionContext } from '../balancer/extension.js';
import { type HealthMechanism, isPlainObject } from '../balancer/health/mechanism.js';
import type { TimerHandle } from '../clock.js';
import { parseSlowStart, type SlowStartOptions } from './options.js';

/** Envoy's slow-start factor at `elapsedMs` after the endpoint became healthy (1 once the window is over). */
export function slowStartFactor(elapsedMs: number, options: SlowStartOptions): number {
  if (elapsedMs >= options.windowMs) return 1;
  const timeFactor = Math.max(1, elapsedMs) / options.windowMs;
  const ramp = options.aggression === 1 ? timeFactor : timeFactor ** (1 / options.aggression);
  return Math.max(options.minWeightPercent / 100, ramp);
}

/** Slow start as a Balancer extension, built by the Balancer from its `slowStart` option. */
export class SlowStart implements BalancerExtension {
  readonly options: SlowStartOptions;
  #ctx: ExtensionContext | undefined;
  #timer: TimerHandle | undefined;
  /**
   * Health at the previous rebuild, to see endpoints that just became healthy. A Map with entries deleted when an
   * endpoint is removed — not a WeakMap: V8 shrinks a WeakMap's table only at garbage collection, and after heavy
   * endpoint churn it stayed megabytes large (issue 14). Bounded by the endpoints the Balancer lists.
   */
  readonly #wasHealthy = new Map<EndpointState, boolean>();
  #closed = false;

  constructor(options: SlowStartOptions) {
    this.options = options;
  }

  attach(context: ExtensionContext): void {
    this.#ctx = context;
  }

  endpointRemoved(state: EndpointState): void {
    this.#wasHealthy.delete(state);
  }

  /** @internal Endpoints whose health this extension remembers (for tests of its memory bound). */
  get trackedCount(): number {
    return this.#wasHealthy.size;
  }

  beforeRebuild(now: number): void {
    let ramping = false;
    for (const state of this.#ctx!.states()) {
      if (state.removed) continue;
      const healthy = state.healthy;
      const was = this.#wasHealthy.get(state);
      this.#wasHealthy.set(state, healthy);
      if (!healthy) {
        state.effectiveWeight = state.endpoint.weight;
        continue;
      }
      // Back from unhealthy: the ramp starts now. A new endpoint (never seen here) ramps from when the Balancer
      // added it (`activeSince`, also reset when the resolver re-adds a draining endpoint).
      if (was === false) state.activeSince = now;
      const factor = slowStartFactor(now - state.activeSince, this.options);
      state.effectiveWeight = state.endpoint.weight * factor;
      if (factor < 1) ramping = true;
    }
    if (ramping && this.#timer === undefined && !this.#closed) {
      this.#timer = this.#ctx!.clock.setTimer(() => {
        this.#timer = undefined;
        if (!this.#closed) this.#ctx!.invalidate();
      }, this.options.updateIntervalMs);
    }
  }

  close(): void {
    this.#closed = true;
    this.#wasHealthy.clear();
    this.#timer?.cancel();
    this.#timer = undefined;
  }
}

/**
 * `slowStart` → `balancer.health.slowStart`, a `'weights'` mechanism: it runs after the mechanisms that decide health
 * and owns `effectiveWeight`. A control plane turning it off gives every endpoint its resolver weight back.
 */
export const slowStartMechanism: HealthMechanism<SlowStartOptions, SlowStart> = {
  option: 'slowStart',
  property: 'slowStart',
  phase: 'weights',
  parse: parseSlowStart,
  create: (options) => new SlowStart(options),
  fromCluster: (sent) => slowStartFromCluster(sent),
  retire(previous, off, context) {
    previous.close();
    if (off) for (const state of context.states()) state.effectiveWeight = state.endpoint.weight;
  },
};

/**
 * xDS slow start → {@link SlowStartOptions} options (same field names). Envoy ramps only when
 * `slow_start_window` is set and positive, so a config without one turns slow start off (`false`).
 */
export function slowStartFromCluster(sent: unknown): unknown {
  if (!isPlainObject(sent)) return sent;
  return sent.windowMs === undefined || sent.windowMs === 0 ? false : sent;
}

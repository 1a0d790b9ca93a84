/**
 * The health-mechanism port: what outlier detection, active health checks, slow start — and any mechanism a user
 * adds — implement to plug into a Balancer. The Balancer never names a concrete mechanism; it asks the registry
 * (./registry.ts) for every registered one, parses each one's option, builds the ones that are on, and lets a
 * control plane's cluster settings replace them.
 *
 * A mechanism is two things: this definition (a named option with a strict parser, a factory, optional control
 * plane mapping), and the {@link BalancerExtension} it builds for each Balancer, which watches endpoints and
 * outcomes and changes routing fields (`ejected`, `activeHealthy`, `effectiveWeight`) followed by `invalidate()`.
 */
import type { BalancerExtension, ExtensionContext } from '../extension.js';

/**
 * The other mechanisms of the same Balancer, by their `property`, as currently in force (a control plane may have
 * replaced one since this mechanism was built: look up each time rather than keep the answer).
 */
export interface HealthPeers {
  get(property: string): BalancerExtension | undefined;
}

/**
 * A health mechanism's definition. Register it with `registerHealthMechanism(definition)`; from then on every new
 * Balancer accepts the option `option`, builds the mechanism when it is on, and exposes the instance as
 * `balancer.health[property]`.
 *
 * ```ts
 * registerHealthMechanism({
 *   option: 'drainedEjection', property: 'drainedEjector',
 *   parse: (raw, path) => (raw === undefined || raw === false ? undefined : parseDrained(raw, path)),
 *   create: (options) => new DrainedEjector(options),
 *   fromCluster: (sent) => sent,   // optional: a control plane may set it (ResolverUpdate.cluster.drainedEjection)
 * });
 * ```
 */
export interface HealthMechanism<Options = unknown, Instance extends BalancerExtension = BalancerExtension> {
  /**
   * The Balancer option this mechanism reads (`outlierDetection`), and the `ResolverUpdate.cluster` key a control
   * plane sets it with. camelCase, unique among mechanisms and the Balancer's own options.
   */
  readonly option: string;
  /** The property of `balancer.health` holding the running instance (`outlierDetector`); `undefined` while off. */
  readonly property: string;
  /**
   * When its hooks run among the mechanisms: `'health'` (default) decides health (ejections, checks); `'weights'`
   * derives weights from health in `beforeRebuild` (slow start) and so runs after every `'health'` mechanism. A
   * `'weights'` mechanism owns `effectiveWeight`: while one is on, subsetting scales its weight instead of resetting
   * it. Within a phase, mechanisms run in registration order.
   */
  readonly phase?: 'health' | 'weights';
  /**
   * Strict, pure parser of the option's raw value (`undefined` when absent): the validated options, or `undefined`
   * when the mechanism is off. Throws a ConfigError naming `path` (`outlierDetection.intervalMs`) on bad input.
   */
  parse(raw: unknown, path: string): Options | undefined;
  /** Builds the instance for one Balancer; the Balancer attaches it. `peers` finds the other mechanisms. */
  create(options: Options, peers: HealthPeers): Instance;
  /**
   * Maps a control plane's cluster setting (`ResolverUpdate.cluster[option]`, in the resolver's wire-named shape)
   * onto this mechanism's raw option, which `parse` then validates; `code` is the Balancer's own option value.
   * Without it a control plane cannot set the mechanism. When the control plane sends the setting, it replaces the
   * code option whole; when it stops sending it, the code option applies again.
   */
  fromCluster?(sent: unknown, code: unknown): unknown;
  /**
   * A control plane replaced this mechanism's options (`off`: or turned it off): `previous` stops. Called before the
   * replacement is attached. Default `previous.close()`. Undo what the instance did to endpoint states only when
   * `off` (with a replacement, `takeOver` continues from them).
   */
  retire?(previous: Instance, off: boolean, context: ExtensionContext): void;
  /** A replacement instance was attached: continue from what its predecessor left on the endpoint states. */
  takeOver?(next: Instance): void;
}

/**
 * What `balancer.health` shows: each registered mechanism's instance under its `property` (`undefined` while off),
 * and `list`, the ones that are on in run order. The built-in mechanisms type their properties by merging into this
 * interface (src/health/builtin.ts, a module augmentation of this module); a mechanism of your own may do the same
 * (test/health/mechanism-registry.test.ts shows one), or read its instance from `list`.
 */
export interface HealthExtensions {
  /** The mechanisms that are on, in run order. */
  readonly list: readonly BalancerExtension[];
}

/** A Balancer's health options, parsed: each registered mechanism's options by its `option` (`undefined` = off). */
export type HealthOptions = Readonly<Record<string, unknown>>;

/**
 * A JSON object (not an array): what a `fromCluster` mapping reshapes. Anything else should pass through unchanged,
 * for `parse` to reject by name.
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

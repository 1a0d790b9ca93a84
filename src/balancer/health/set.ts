/**
 * The health mechanisms of one Balancer: parsed from its options, built, and replaced when a control plane changes
 * a mechanism's settings. Knows mechanisms only through the {@link HealthMechanism} port.
 */
import type { RawOptions } from '../../config/validate.js';
import type { BalancerExtension, ExtensionContext } from '../extension.js';
import type { HealthExtensions, HealthMechanism, HealthOptions } from './mechanism.js';
import { healthMechanisms } from './registry.js';

/**
 * Reads every registered mechanism's option from a Balancer's options (throws ConfigError naming the field). Pure.
 * The answer has a key per mechanism: its validated options, or `undefined` when it is off.
 */
export function parseHealthOptions(raw: RawOptions): HealthOptions {
  const parsed: Record<string, unknown> = {};
  for (const mechanism of healthMechanisms())
    parsed[mechanism.option] = mechanism.parse(raw[mechanism.option], mechanism.option);
  return parsed;
}

/** A control plane's new settings per mechanism (present only when changed; `undefined` options = off). */
export type HealthChange = ReadonlyMap<HealthMechanism, unknown>;

/** The running mechanisms of one Balancer. */
export class HealthSet {
  /** The mechanisms this Balancer was built with (registration after that changes nothing here), in run order. */
  readonly #mechanisms: readonly HealthMechanism[];
  readonly #instances = new Map<HealthMechanism, BalancerExtension>();
  #view: HealthExtensions;
  readonly #peers = { get: (property: string) => this.#lookup(property) };

  /** Builds the mechanisms `options` turn on (from {@link parseHealthOptions}); the Balancer attaches them. */
  constructor(options: HealthOptions) {
    this.#mechanisms = healthMechanisms().filter((m) => Object.hasOwn(options, m.option));
    for (const mechanism of this.#mechanisms) {
      const own = options[mechanism.option];
      if (own !== undefined) this.#instances.set(mechanism, mechanism.create(own, this.#peers));
    }
    this.#view = this.#makeView();
  }

  /** What `balancer.health` answers: replaced (never mutated) when a mechanism is replaced. */
  get view(): HealthExtensions {
    return this.#view;
  }

  /** The instances that are on, in run order. */
  get list(): readonly BalancerExtension[] {
    return this.#view.list;
  }

  /** True while a `'weights'` mechanism (slow start) is on: it owns `effectiveWeight`. */
  get derivesWeights(): boolean {
    for (const mechanism of this.#instances.keys()) if (mechanism.phase === 'weights') return true;
    return false;
  }

  /**
   * Puts a control plane's changed settings in force: retires the instances they replace or turn off and builds
   * the new ones, not yet attached. Answers the new instances, for {@link HealthSet.attach} once the caller's
   * extension lists hold them (attaching may rebuild the picker, which must run the new set's hooks).
   */
  replace(change: HealthChange, context: ExtensionContext): BalancerExtension[] {
    const created: BalancerExtension[] = [];
    for (const mechanism of this.#mechanisms) {
      if (!change.has(mechanism)) continue;
      const options = change.get(mechanism);
      const previous = this.#instances.get(mechanism);
      if (previous !== undefined) {
        if (mechanism.retire !== undefined) mechanism.retire(previous, options === undefined, context);
        else void previous.close?.();
        this.#instances.delete(mechanism);
      }
      if (options === undefined) continue;
      const next = mechanism.create(options, this.#peers);
      this.#instances.set(mechanism, next);
      created.push(next);
    }
    if (change.size > 0) this.#view = this.#makeView();
    return created;
  }

  /** Attaches instances {@link HealthSet.replace} built, and lets each take over from its predecessor. */
  attach(created: readonly BalancerExtension[], context: ExtensionContext): void {
    for (const [mechanism, instance] of this.#instances) {
      if (!created.includes(instance)) continue;
      instance.attach?.(context);
      mechanism.takeOver?.(instance);
    }
  }

  #lookup(property: string): BalancerExtension | undefined {
    for (const [mechanism, instance] of this.#instances) if (mechanism.property === property) return instance;
    return undefined;
  }

  #makeView(): HealthExtensions {
    const view: Record<string, unknown> = {};
    const list: BalancerExtension[] = [];
    for (const mechanism of this.#mechanisms) {
      const instance = this.#instances.get(mechanism);
      view[mechanism.property] = instance;
      if (instance !== undefined) list.push(instance);
    }
    view.list = list;
    return view as unknown as HealthExtensions;
  }
}

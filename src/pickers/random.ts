/**
 * `random`: an endpoint drawn at random, in proportion to its weight.
 *
 * Stateless, so it never synchronises many clients onto the same endpoint, and O(1) with weights through an alias
 * table. Like round robin it ignores load; its variance is higher, which makes it a baseline rather than a choice.
 */
import type { EndpointState } from '../balancer/endpoint-state.js';
import type { Picker, Policy, PolicyDefinition } from '../balancer/policy/picker.js';
import { AliasTable, uniformWeights } from '../balancer/routing/weights.js';
import { readObject } from '../config/validate.js';
import { Xorshift32 } from './fast-random.js';

export const RANDOM = 'random';

/** `random` has no options. */
export type RandomOptions = Record<string, never>;

class UniformRandomPicker implements Picker {
  constructor(
    private readonly endpoints: readonly EndpointState[],
    private readonly rng: Xorshift32,
  ) {}
  pick(): EndpointState | undefined {
    return this.endpoints[this.rng.below(this.endpoints.length)];
  }
}

class WeightedRandomPicker implements Picker {
  readonly #table: AliasTable;
  constructor(
    private readonly endpoints: readonly EndpointState[],
    private readonly rng: Xorshift32,
  ) {
    this.#table = new AliasTable(endpoints.map((e) => e.effectiveWeight));
  }
  pick(): EndpointState | undefined {
    return this.endpoints[this.#table.sample(this.rng.uniform())];
  }
}

export const random: PolicyDefinition<RandomOptions> = {
  name: RANDOM,
  description: 'A random endpoint in proportion to weight; ignores load.',
  parse(raw, path) {
    readObject(raw, path, []);
    return {};
  },
  create(_options, env): Policy {
    return {
      name: RANDOM,
      build: (endpoints) =>
        uniformWeights(endpoints)
          ? new UniformRandomPicker(endpoints, new Xorshift32(env.random))
          : new WeightedRandomPicker(endpoints, new Xorshift32(env.random)),
    };
  },
};

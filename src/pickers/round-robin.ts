/**
 * `round_robin`: each endpoint in turn, ignoring weights and load.
 *
 * Each new picker starts at a random position so that many clients rebuilding at the same moment (a deploy, a DNS
 * change) do not all send their next request to the same first endpoint (gRPC does the same). Use
 * `weighted_round_robin` for weights, and a load-aware policy for anything whose requests vary in cost: round robin
 * keeps sending a slow endpoint its full share (the "unlucky server" problem).
 */
import type { EndpointState } from '../balancer/endpoint-state.js';
import type { Picker, Policy, PolicyDefinition } from '../balancer/policy/picker.js';
import { readObject } from '../config/validate.js';

export const ROUND_ROBIN = 'round_robin';

/** `round_robin` has no options. */
export type RoundRobinOptions = Record<string, never>;

/** Cycles through `endpoints` from `start`. Also serves `weighted_round_robin` when all weights are equal. */
export class RoundRobinPicker implements Picker {
  readonly #endpoints: readonly EndpointState[];
  #next: number;

  constructor(endpoints: readonly EndpointState[], start: number) {
    this.#endpoints = endpoints;
    this.#next = start;
  }

  pick(): EndpointState | undefined {
    const i = this.#next;
    this.#next = i + 1 === this.#endpoints.length ? 0 : i + 1;
    return this.#endpoints[i];
  }
}

export const roundRobin: PolicyDefinition<RoundRobinOptions> = {
  name: ROUND_ROBIN,
  description: 'Each endpoint in turn from a random start; ignores weights and load.',
  parse(raw, path) {
    readObject(raw, path, []);
    return {};
  },
  create(_options, env): Policy {
    return {
      name: ROUND_ROBIN,
      build: (endpoints) => new RoundRobinPicker(endpoints, Math.floor(env.random() * endpoints.length)),
    };
  },
};

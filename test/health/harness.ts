/**
 * Test helpers for the health extensions: endpoint states and an extension context on a ManualClock, without a
 * Balancer, so each rule can be driven outcome by outcome.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { onTestFinished } from 'vitest';
import { EndpointState } from '../../src/balancer/endpoint-state.js';
import type { BalancerExtension, ExtensionContext } from '../../src/balancer/extension.js';
import { ManualClock } from '../../src/clock.js';
import { parseEndpoint } from '../../src/endpoint.js';
import { seededRandom } from '../../src/random.js';

export interface Harness {
  readonly clock: ManualClock;
  readonly states: EndpointState[];
  readonly context: ExtensionContext;
  /** Number of invalidate() calls so far. */
  invalidations(): number;
}

export function harness(extension: BalancerExtension, count: number, seed = 1): Harness {
  const clock = new ManualClock();
  const states = Array.from(
    { length: count },
    (_, i) => new EndpointState(parseEndpoint(`10.0.${i >> 8}.${(i & 255) + 1}:80`, 'e'), 0, 30),
  );
  let invalidations = 0;
  const context: ExtensionContext = {
    balancerName: 'test',
    clock,
    random: seededRandom(seed),
    states: () => states.values(),
    invalidate: () => {
      invalidations++;
    },
  };
  extension.attach?.(context);
  for (const s of states) extension.endpointAdded?.(s);
  return { clock, states, context, invalidations: () => invalidations };
}

/** Collects messages published on a diagnostics channel until the end of the test. */
export function collect(name: string): object[] {
  const messages: object[] = [];
  const listener = (message: unknown) => messages.push(message as object);
  diagnosticsChannel.subscribe(name, listener);
  onTestFinished(() => {
    diagnosticsChannel.unsubscribe(name, listener);
  });
  return messages;
}

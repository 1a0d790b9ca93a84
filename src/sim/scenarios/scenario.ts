/**
 * A built-in scenario: a fleet description plus what it shows. Scenarios are plain {@link FleetConfig} objects —
 * exactly what a user would put in a `--config` JSON file — so each one doubles as an example of the format.
 */
import type { FleetConfig } from '../config.js';

export interface Scenario {
  /** CLI name, kebab-case: `npm run simulate -- --scenario <name>`. */
  readonly name: string;
  /** What the comparison shows, in a sentence or two (printed above the table, used in the docs). */
  readonly summary: string;
  readonly fleet: FleetConfig;
}

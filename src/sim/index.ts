/**
 * The simulator's public API: describe a fleet and the configurations to compare, run it on virtual time against
 * the real Balancer, read the table and charts.
 *
 * ```ts
 * import { parseFleetConfig, simulate, textReport } from 'switchyard-lb/sim';
 * const result = simulate(parseFleetConfig(JSON.parse(await readFile('fleet.json', 'utf8'))));
 * console.log(textReport(result));
 * ```
 *
 * @module switchyard-lb/sim
 */
export type { BackendHost, BackendWork } from './backend.js';
export { SimBackend } from './backend.js';
export type {
  ArrivalsConfig,
  BackendConfig,
  BackendPlan,
  ConfigurationConfig,
  ConfigurationPlan,
  FleetConfig,
  SimulationPlan,
  TimelineEvent,
} from './config.js';
export { parseFleetConfig } from './config.js';
export type { DistributionConfig, Sampler } from './distributions.js';
export { parseDistribution } from './distributions.js';
export type { BackendResult, ConfigurationResult, SimulationResult } from './engine.js';
export { runConfiguration, simulate, streamSeed } from './engine.js';
export { EventQueue } from './event-queue.js';
export { groupShares, latencySvg, loadSvg, resultRows, textReport, writeResults } from './output.js';
export type { LatencySummary } from './recorder.js';
export { quantile, summarize } from './recorder.js';
export type { ResultRow } from './report.js';
export { formatMs, formatTable, percent } from './report.js';
export type { RetryConfig, RetryPlan } from './retry.js';
export type { Scenario } from './scenarios/index.js';
export { findScenario, scenarios } from './scenarios/index.js';
export { SimClock } from './sim-clock.js';
export { cdfChart, loadChart, type Series } from './svg.js';

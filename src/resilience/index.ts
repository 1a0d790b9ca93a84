/**
 * Resilience: retry budgets, backoff, retry policy, hedging, adaptive throttling, circuit breaking, and the
 * executor that combines them. One file per mechanism; see docs/retries.md.
 */

export {
  type CircuitBreakerLimits,
  type CircuitBreakerOptions,
  defaultCircuitBreakerOptions,
  PendingLimit,
} from '../balancer/limits.js';
export {
  AdaptiveThrottle,
  type AdaptiveThrottleOptions,
  type AdaptiveThrottleStats,
  defaultAdaptiveThrottleOptions,
} from './adaptive-throttle.js';
export {
  type BackoffOptions,
  defaultBackoffOptions,
  ExponentialBackoff,
  parseRetryAfter,
} from './backoff.js';
export {
  type AttemptInfo,
  type Classified,
  type ExecuteOptions,
  type ExecuteResult,
  type ExecuteResume,
  execute,
} from './executor.js';
export { ExecutorStats, type ExecutorStatsSnapshot } from './executor-stats.js';
export { defaultHedgingOptions, type HedgingOptions, HedgingPolicy, type HedgingStats } from './hedging.js';
export {
  defaultRetryBudgetOptions,
  RetryBudget,
  type RetryBudgetConfig,
  type RetryBudgetOptions,
  type RetryBudgetStats,
} from './retry-budget.js';
export {
  defaultRetryPolicyOptions,
  GRPC_STATUS_CODES,
  type GrpcCodeName,
  type NoRetryReason,
  type RetryDecision,
  type RetryInfo,
  type RetryOnOptions,
  RetryPolicy,
  type RetryPolicyEnvironment,
  type RetryPolicyOptions,
  type RetryPolicyStats,
} from './retry-policy.js';

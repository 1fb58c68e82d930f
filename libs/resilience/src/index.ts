export { nowMs } from './clock.js';
export { Budget } from './budget.js';
export { LatencyTracker, type LatencyTrackerOptions } from './latency-tracker.js';
export {
  CircuitBreakers,
  CircuitOpenError,
  type CircuitBreakerOptions,
  type CircuitState,
} from './circuit-breaker.js';
export {
  hedge,
  HedgeFailedError,
  HedgeLostError,
  type HedgeAttempt,
  type HedgeOutcome,
} from './hedge.js';
export {
  AdaptiveConcurrencyLimit,
  type ConcurrencyLimitOptions,
  type Permit,
  type Refusal,
} from './concurrency-limit.js';

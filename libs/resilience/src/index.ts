export { backoffDelay, defaultBackoff, pause, type BackoffOptions } from './backoff.js';
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
  DEFAULT_RESTING_LIMIT,
  QueueTimeLimit,
  type Permit,
  type QueueTimeLimitOptions,
  type Refusal,
} from './queue-time-limit.js';
export { eventLoopQueueTime, type QueueTimeProbe } from './queue-time.js';

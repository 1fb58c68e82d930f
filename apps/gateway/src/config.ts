import { env, logLevelEnv } from '@scoregate/config';
import { DEFAULT_RESTING_LIMIT } from '@scoregate/resilience';
import { securityConfig } from './auth/config.js';
import { predictionLogConfig } from './prediction-log/index.js';

/** Environment variables of the gateway. */
export const gatewayConfig = {
  GATEWAY_HOST: env.string('127.0.0.1'),
  GATEWAY_PORT: env.port(50051),
  FEATURE_SERVICE_ADDRESS: env.address('127.0.0.1:50052'),
  /** host:port, dns:///name:port (every address it resolves to) or ipv4:a:1,b:2 (replicas). */
  SCORING_SERVICE_ADDRESS: env.string('127.0.0.1:50053'),
  /** Per-model scoring targets, `model=target;model=target`; other models use the above. */
  SCORING_ROUTES: env.optionalString(),
  /** Hedge a model still running after its observed p95 to the next one in the chain. */
  GATEWAY_HEDGING: env.flag(true),
  /**
   * Feature reads that failed or missed their deadline in a row before the feature circuit opens
   * (calls are then answered without stored features, at once).
   */
  GATEWAY_FEATURE_CIRCUIT_FAILURES: env.positiveInt(10),
  /** How long the feature circuit stays open before one read is sent as a probe (ms). */
  GATEWAY_FEATURE_CIRCUIT_OPEN_MS: env.millis(1_000),
  REGISTRY_SERVICE_ADDRESS: env.address('127.0.0.1:50054'),
  /** Budget used when neither the client, the request nor the scorer sets one. */
  GATEWAY_DEFAULT_BUDGET_MS: env.millis(100),
  /** Time kept back from downstream deadlines to build and send the answer (ms). */
  GATEWAY_RESPONSE_RESERVE_MS: env.millis(2),
  /**
   * Admission control: event-loop queueing time tolerated (ms) before the concurrency limit
   * shrinks; calls above the limit are refused at once with RESOURCE_EXHAUSTED.
   */
  GATEWAY_ADMISSION_QUEUE_TARGET_MS: env.millis(2),
  /**
   * Admission control: latency tolerated for admitted calls, as a multiple of their unloaded
   * latency (learnt while the gateway is not busy), before the concurrency limit shrinks. 0: off.
   */
  GATEWAY_ADMISSION_LATENCY_TARGET: env.nonNegative(3),
  /**
   * Admission control: the concurrency limit at rest (calls), which it starts at and returns to
   * while the queue stays short.
   */
  GATEWAY_ADMISSION_RESTING_LIMIT: env.positiveInt(DEFAULT_RESTING_LIMIT),
  /** Admission control: the concurrency limit never goes below this (calls). */
  GATEWAY_ADMISSION_MIN_LIMIT: env.positiveInt(4),
  /** Largest Score request accepted, in bytes. */
  GATEWAY_MAX_REQUEST_BYTES: env.positiveInt(1024 * 1024),
  /** GATEWAY_AUTH_FILE, GATEWAY_TLS_*, SCOREGATE_TLS_*: see auth/config.ts. */
  ...securityConfig,
  /** GATEWAY_KAFKA_BROKERS, GATEWAY_PREDICTION_*: see prediction-log/config.ts. */
  ...predictionLogConfig,
  /** Shadow calls running at once; more are dropped and counted. */
  GATEWAY_SHADOW_MAX_IN_FLIGHT: env.positiveInt(32),
  /** Deadline of one shadow call (its own, not the request's). */
  GATEWAY_SHADOW_TIMEOUT_MS: env.millis(200),
  ...logLevelEnv,
};

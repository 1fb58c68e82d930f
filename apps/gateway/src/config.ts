import { env } from '@scoregate/config';

/** Environment variables of the gateway. */
export const gatewayConfig = {
  GATEWAY_HOST: env.string('127.0.0.1'),
  GATEWAY_PORT: env.port(50051),
  FEATURE_SERVICE_ADDRESS: env.address('127.0.0.1:50052'),
  SCORING_SERVICE_ADDRESS: env.address('127.0.0.1:50053'),
  REGISTRY_SERVICE_ADDRESS: env.address('127.0.0.1:50054'),
  /** Budget used when neither the client, the request nor the scorer sets one. */
  GATEWAY_DEFAULT_BUDGET_MS: env.millis(100),
  /** Time kept back from downstream deadlines to build and send the answer (ms). */
  GATEWAY_RESPONSE_RESERVE_MS: env.millis(2),
  /** How long a resolved scorer route is reused before asking the registry again. */
  GATEWAY_ROUTE_CACHE_MS: env.millis(5_000),
  /** Largest Score request accepted, in bytes. */
  GATEWAY_MAX_REQUEST_BYTES: env.positiveInt(1024 * 1024),
  LOG_LEVEL: env.oneOf(['trace', 'debug', 'info', 'warn', 'error'] as const, 'info'),
};

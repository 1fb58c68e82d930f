import { env } from './env.js';

/** The levels LOG_LEVEL accepts (pino's), most detailed first. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;

/**
 * LOG_LEVEL, the least severe level a process writes; `info` unless set. Every process's
 * configuration (each service, the feature ingestor, the telemetry hook) includes it.
 */
export const logLevelEnv = { LOG_LEVEL: env.oneOf(LOG_LEVELS, 'info') };

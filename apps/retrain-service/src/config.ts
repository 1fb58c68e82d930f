import { fileURLToPath } from 'node:url';
import { env, logLevelEnv } from '@scoregate/config';
import { mutualTlsEnv } from '@scoregate/rpc';
import { outcomeClockEnv } from './join/outcome-clock.js';

const DEFAULT_DATA_DIR = fileURLToPath(new URL('../../../.data/retrain', import.meta.url));

/** Environment variables of retrain-service. */
export const retrainServiceConfig = {
  RETRAIN_SERVICE_HOST: env.string('127.0.0.1'),
  RETRAIN_SERVICE_PORT: env.port(50055),
  /** Where the labelled examples live: `<dir>/labels.sqlite`. */
  RETRAIN_DATA_DIR: env.string(DEFAULT_DATA_DIR),
  /** How long a prediction waits for its outcome (and an outcome for its prediction), ms. */
  RETRAIN_JOIN_WINDOW_MS: env.positiveInt(24 * 3_600_000),
  /** `host:port,...` of the Kafka brokers; unset = no topics are consumed. */
  RETRAIN_KAFKA_BROKERS: env.optionalString(),
  RETRAIN_PREDICTION_TOPIC: env.string('scoregate.predictions.v1'),
  RETRAIN_OUTCOME_TOPIC: env.string('scoregate.outcomes.v1'),
  RETRAIN_CONSUMER_GROUP: env.string('scoregate-retrain'),
  /** Records per join transaction (and per offset commit). */
  RETRAIN_CONSUMER_BATCH: env.positiveInt(1000),
  /** How long the group waits for a silent member (a killed process) before reassigning, ms. */
  RETRAIN_KAFKA_SESSION_TIMEOUT_MS: env.positiveInt(30_000),
  /**
   * The gateway's prediction file to follow when there is no Kafka (embedded mode; the launcher
   * sets it to GATEWAY_PREDICTION_FILE); unset = not followed.
   */
  RETRAIN_PREDICTION_FILE: env.optionalString(),
  /** How often the prediction file is checked for new lines, ms. */
  RETRAIN_PREDICTION_FILE_POLL_MS: env.positiveInt(500),
  ...outcomeClockEnv,
  ...logLevelEnv,
  /** mTLS between services: SCOREGATE_TLS_CA / SCOREGATE_TLS_CERT / SCOREGATE_TLS_KEY. */
  ...mutualTlsEnv,
};

import { fileURLToPath } from 'node:url';
import { env, type ConfigOf } from '@scoregate/config';
import { parseBrokers } from '@scoregate/messaging';
import type { PredictionLogOptions } from './prediction-log.js';

const DEFAULT_FILE = fileURLToPath(new URL('../../../../.data/predictions.jsonl', import.meta.url));

/** Environment variables of the prediction log (merge into the gateway's config schema). */
export const predictionLogConfig = {
  /** `host:port,...` of the Kafka brokers; unset = embedded mode, the log goes to a file. */
  GATEWAY_KAFKA_BROKERS: env.optionalString(),
  GATEWAY_PREDICTION_TOPIC: env.string('scoregate.predictions.v1'),
  /** JSON-lines file used when no broker is configured. */
  GATEWAY_PREDICTION_FILE: env.string(DEFAULT_FILE),
  /** Events held while the broker is slow or away; beyond it new events are dropped (counted). */
  GATEWAY_PREDICTION_BUFFER: env.positiveInt(100_000),
  /** At most this many events per send. */
  GATEWAY_PREDICTION_BATCH: env.positiveInt(500),
  /** How long a partial batch waits for more events before it is sent (ms). */
  GATEWAY_PREDICTION_LINGER_MS: env.millis(20),
};

/** The prediction log's options from a loaded config. */
export function predictionLogOptions(
  config: ConfigOf<typeof predictionLogConfig>,
): PredictionLogOptions {
  const brokers = parseBrokers(config.GATEWAY_KAFKA_BROKERS ?? '');
  return {
    sink:
      brokers.length > 0
        ? { kind: 'kafka', brokers, topic: config.GATEWAY_PREDICTION_TOPIC }
        : { kind: 'file', path: config.GATEWAY_PREDICTION_FILE },
    bufferSize: config.GATEWAY_PREDICTION_BUFFER,
    batchSize: config.GATEWAY_PREDICTION_BATCH,
    lingerMs: config.GATEWAY_PREDICTION_LINGER_MS,
  };
}

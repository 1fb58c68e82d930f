import path from 'node:path';
import {
  createKafkaConsumer,
  createKafkaProducer,
  parseBrokers,
  type MessageConsumer,
} from '@scoregate/messaging';
import type { Logger } from '@scoregate/telemetry';
import { registerJoinMetrics } from './join-metrics.js';
import { createJoinIngestor } from './join-ingestor.js';
import { LabeledExampleStore } from './labeled-example-store.js';
import { outcomeClockCheck, outcomeClockSkewGuard } from './outcome-clock.js';
import { followPredictionFile, type PredictionFileFollower } from './prediction-file-follower.js';
import type { OutcomeClockCheck } from './join-handlers.js';
import type { ConfigOf } from '@scoregate/config';
import type { retrainServiceConfig } from '../config.js';

/** How often waits longer than the join window are ended (ms). */
const EXPIRY_INTERVAL_MS = 60_000;

export interface OutcomeLoop {
  readonly store: LabeledExampleStore;
  /** For RecordOutcomes. */
  readonly checkRpcClock: OutcomeClockCheck;
  /** What feeds the join, for the start-up log line. */
  readonly sources: string[];
  stop(): Promise<void>;
}

/**
 * The outcome side of the learning loop, wired from the configuration: the labelled-example
 * store, the Kafka consumer of predictions and outcomes (when brokers are configured), the
 * prediction file follower (embedded mode), and the expiry of waits past the join window.
 */
export async function startOutcomeLoop(
  config: ConfigOf<typeof retrainServiceConfig>,
  logger: Logger,
): Promise<OutcomeLoop> {
  const store = new LabeledExampleStore({
    file: path.join(config.RETRAIN_DATA_DIR, 'labels.sqlite'),
    joinWindowMs: config.RETRAIN_JOIN_WINDOW_MS,
  });
  const guard = outcomeClockSkewGuard({
    toleranceMs: config.RETRAIN_OUTCOME_CLOCK_SKEW_TOLERANCE_MS,
  });
  const sources: string[] = [];
  let kafka: { stop(): Promise<void> } | undefined;
  let follower: PredictionFileFollower | undefined;
  try {
    const brokers = parseBrokers(config.RETRAIN_KAFKA_BROKERS ?? '');
    if (brokers.length > 0) {
      kafka = await consumeJoinTopics(
        config,
        brokers,
        store,
        outcomeClockCheck(guard, 'stream'),
        logger,
      );
      sources.push(`Kafka ${config.RETRAIN_PREDICTION_TOPIC} + ${config.RETRAIN_OUTCOME_TOPIC}`);
    }
    if (config.RETRAIN_PREDICTION_FILE !== undefined) {
      follower = followPredictionFile({
        file: config.RETRAIN_PREDICTION_FILE,
        store,
        logger,
        pollMs: config.RETRAIN_PREDICTION_FILE_POLL_MS,
      });
      void follower.poll();
      sources.push(`prediction file ${config.RETRAIN_PREDICTION_FILE}`);
    }
  } catch (error) {
    await kafka?.stop();
    store.close();
    throw error;
  }
  sources.push('RecordOutcomes');
  registerJoinMetrics(store);
  const expire = () => expireWaits(store, logger);
  expire();
  const timer = setInterval(expire, EXPIRY_INTERVAL_MS);
  timer.unref();
  return {
    store,
    checkRpcClock: outcomeClockCheck(guard, 'rpc'),
    sources,
    async stop() {
      clearInterval(timer);
      await follower?.stop();
      await kafka?.stop();
      store.close();
    },
  };
}

/** Ends the waits older than the join window (counted as expired by the store). */
function expireWaits(store: LabeledExampleStore, logger: Logger): void {
  try {
    const expired = store.expire();
    if (expired.predictions + expired.outcomes > 0)
      logger.info(
        expired,
        `join window passed: ${expired.predictions} prediction(s) and ${expired.outcomes} outcome(s) expired unmatched`,
      );
  } catch (error) {
    logger.error({ err: error }, `expiring the join's waits failed: ${(error as Error).message}`);
  }
}

/** The consumer of the prediction and outcome topics, with its dead-letter producer. */
async function consumeJoinTopics(
  config: ConfigOf<typeof retrainServiceConfig>,
  brokers: string[],
  store: LabeledExampleStore,
  checkOutcomeClock: OutcomeClockCheck,
  logger: Logger,
): Promise<{ stop(): Promise<void> }> {
  const deadLetters = await createKafkaProducer({ brokers, clientId: 'retrain-service', logger });
  let consumer: MessageConsumer;
  try {
    consumer = await createKafkaConsumer({
      brokers,
      clientId: 'retrain-service',
      logger,
      groupId: config.RETRAIN_CONSUMER_GROUP,
      topics: [config.RETRAIN_PREDICTION_TOPIC, config.RETRAIN_OUTCOME_TOPIC],
      sessionTimeoutMs: config.RETRAIN_KAFKA_SESSION_TIMEOUT_MS,
      maxBatchMessages: config.RETRAIN_CONSUMER_BATCH,
      handleBatch: createJoinIngestor({
        store,
        predictionTopic: config.RETRAIN_PREDICTION_TOPIC,
        outcomeTopic: config.RETRAIN_OUTCOME_TOPIC,
        deadLetters,
        checkOutcomeClock,
        logger,
      }),
      onFatalError: (error) => {
        // Offsets live with the rows in the store: exiting loses nothing; a supervisor restarts.
        logger.fatal({ err: error }, `Kafka consumer stopped for good: ${error.message}`);
        process.exit(1);
      },
    });
  } catch (error) {
    await deadLetters.close();
    throw error;
  }
  return {
    async stop() {
      await consumer.stop();
      await deadLetters.close();
    },
  };
}

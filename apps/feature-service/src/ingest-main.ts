import '@scoregate/config/supported-node';
import { z } from 'zod';
import { env, loadConfigOrExit, logLevelEnv } from '@scoregate/config';
import {
  createKafkaConsumer,
  createKafkaProducer,
  parseBrokers,
  deadLetterTopicOf,
} from '@scoregate/messaging';
import { drainOnSignals } from '@scoregate/rpc';
import { createLogger, shutdownTelemetry } from '@scoregate/telemetry';
import { defaultFeatureViewsFile, loadFeatureViews } from './feature-views.js';
import { createFeatureIngestor } from './ingestion/feature-ingestor.js';
import { createFeatureStore, featureStoreEnv } from './store-factory.js';
import { clockSkewEnv, featureClockSkewGuard } from './clock-skew.js';

// The stream ingestor: FeatureUpdated events from Kafka into the feature store. Wiring only.
const config = loadConfigOrExit('feature-ingest', {
  KAFKA_BROKERS: z
    .string({ error: 'is required (host:port of the Kafka brokers, comma-separated)' })
    .min(1),
  FEATURE_INGEST_TOPIC: env.string('scoregate.features.updated.v1'),
  FEATURE_INGEST_GROUP: env.string('scoregate-feature-ingest'),
  /** Events per store write (and per offset commit). */
  FEATURE_INGEST_BATCH: env.positiveInt(1000),
  /** Partitions handled at the same time (each in order). */
  FEATURE_INGEST_CONCURRENCY: env.positiveInt(3),
  /** How long the group waits for a silent member (a killed process) before reassigning. */
  KAFKA_SESSION_TIMEOUT_MS: env.positiveInt(30_000),
  FEATURE_VIEWS_FILE: env.optionalString(),
  ...featureStoreEnv,
  ...clockSkewEnv,
  ...logLevelEnv,
});
const logger = createLogger({ service: 'feature-ingest', level: config.LOG_LEVEL });

try {
  if (config.FEATURE_STORE === 'memory')
    throw new Error(
      'FEATURE_STORE=memory would keep the ingested features inside this process, where no ' +
        'feature-service reads them; set FEATURE_STORE=redis',
    );
  const brokers = parseBrokers(config.KAFKA_BROKERS);
  const catalog = await loadFeatureViews(config.FEATURE_VIEWS_FILE ?? defaultFeatureViewsFile);
  const opened = await createFeatureStore(config, logger, { catalog });
  const deadLetters = await createKafkaProducer({
    brokers,
    clientId: 'feature-ingest',
    logger,
  });
  const consumer = await createKafkaConsumer({
    brokers,
    clientId: 'feature-ingest',
    logger,
    groupId: config.FEATURE_INGEST_GROUP,
    topics: [config.FEATURE_INGEST_TOPIC],
    maxBatchMessages: config.FEATURE_INGEST_BATCH,
    sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
    partitionsConsumedConcurrently: config.FEATURE_INGEST_CONCURRENCY,
    handleBatch: createFeatureIngestor({
      catalog,
      store: opened.store,
      deadLetters,
      logger,
      clockSkew: featureClockSkewGuard({ toleranceMs: config.FEATURE_CLOCK_SKEW_TOLERANCE_MS }),
    }),
    onFatalError: (error) => {
      // Offsets are committed only after writes, so exiting loses nothing; a supervisor restarts.
      logger.fatal({ err: error }, `Kafka consumer stopped for good: ${error.message}`);
      void shutdownTelemetry().finally(() => process.exit(1));
    },
  });
  logger.info(
    {
      topic: config.FEATURE_INGEST_TOPIC,
      group: config.FEATURE_INGEST_GROUP,
      deadLetterTopic: deadLetterTopicOf(config.FEATURE_INGEST_TOPIC),
      store: opened.description,
    },
    `ingesting ${config.FEATURE_INGEST_TOPIC} into ${opened.description}`,
  );

  drainOnSignals({
    logger,
    drain: async (signal) => {
      logger.info({ signal }, `${signal}: finishing the batch in hand, committing, stopping`);
      try {
        await consumer.stop();
        await deadLetters.close();
        await opened.close();
        logger.info('stopped');
      } finally {
        await shutdownTelemetry();
      }
    },
  });
} catch (error) {
  logger.fatal({ err: error }, `feature-ingest failed to start: ${(error as Error).message}`);
  await shutdownTelemetry();
  process.exit(1);
}

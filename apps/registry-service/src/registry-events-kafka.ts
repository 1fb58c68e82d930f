import { createKafkaProducer, createTopics, parseBrokers } from '@scoregate/messaging';
import type { Logger } from '@scoregate/telemetry';
import {
  createKafkaRegistryEvents,
  REGISTRY_EVENTS_TOPIC,
  type RegistryEvents,
} from './registry-events.js';

export interface RegistryEventsConfig {
  /** Comma-separated `host:port` list (REGISTRY_KAFKA_BROKERS); events are off when unset. */
  readonly brokers: string | undefined;
  readonly logger: Logger;
  readonly topic?: string;
}

/**
 * Kafka registry events when brokers are configured; undefined (events off) otherwise. The
 * connection is made in the background, so a broker that is down does not keep the registry
 * from serving; records published meanwhile wait for it (kafkajs retries).
 */
export function createRegistryEventsFromConfig(
  config: RegistryEventsConfig,
): RegistryEvents | undefined {
  if (config.brokers === undefined) return undefined;
  const brokers = parseBrokers(config.brokers);
  const topic = config.topic ?? REGISTRY_EVENTS_TOPIC;
  const producer = createTopics(brokers, [{ name: topic, partitions: 3 }])
    .catch((error: unknown) =>
      config.logger.warn({ err: error, topic }, `could not create ${topic}; relying on the broker`),
    )
    .then(() =>
      createKafkaProducer({ brokers, clientId: 'registry-service', logger: config.logger }),
    );
  producer.catch((error: unknown) =>
    config.logger.error(
      { err: error, brokers },
      'Kafka producer could not connect; registry events are not published',
    ),
  );
  return createKafkaRegistryEvents({ producer, topic, logger: config.logger });
}

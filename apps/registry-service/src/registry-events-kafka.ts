import {
  createKafkaProducer,
  createTopics,
  parseBrokers,
  type MessageProducer,
} from '@scoregate/messaging';
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
 * connection is made on the first publication, so a broker that is down does not keep the
 * registry from serving; the event relay retries until it is back.
 */
export function createRegistryEventsFromConfig(
  config: RegistryEventsConfig,
): RegistryEvents | undefined {
  if (config.brokers === undefined) return undefined;
  const brokers = parseBrokers(config.brokers);
  const topic = config.topic ?? REGISTRY_EVENTS_TOPIC;
  // Connected on first use, and again after a failed connection (the relay retries).
  let current: Promise<MessageProducer> | undefined;
  const producer = () => {
    if (current === undefined) {
      const connecting = createTopics(brokers, [{ name: topic, partitions: 3 }])
        .catch((error: unknown) =>
          config.logger.warn(
            { err: error, topic },
            `could not create ${topic}; relying on the broker`,
          ),
        )
        .then(() =>
          createKafkaProducer({ brokers, clientId: 'registry-service', logger: config.logger }),
        );
      connecting.catch(() => (current = undefined));
      current = connecting;
    }
    return current;
  };
  return createKafkaRegistryEvents({ producer, topic });
}

import type { RegistryEvents } from './registry-events.js';

export interface RegistryEventsConfig {
  /** Comma-separated `host:port` list; events are off when unset. */
  readonly brokers: string | undefined;
  readonly logger: { warn(object: object, message: string): void; info(message: string): void };
}

/** Kafka registry events when brokers are configured; undefined (events off) otherwise. */
export async function createRegistryEventsFromConfig(
  config: RegistryEventsConfig,
): Promise<RegistryEvents | undefined> {
  if (config.brokers === undefined) return undefined;
  config.logger.warn({ brokers: config.brokers }, 'Kafka registry events are not wired yet');
  return undefined;
}

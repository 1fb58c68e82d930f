import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import type { Logger } from '@scoregate/telemetry';

/** Connection settings shared by producers, consumers and the admin helper. */
export interface KafkaConnection {
  /** `host:port` of one or more brokers. */
  readonly brokers: readonly string[];
  readonly clientId?: string;
  /** kafkajs warnings and errors go here (with `component: kafkajs`); silent when absent. */
  readonly logger?: Logger;
}

/** A kafkajs client whose log lines go to the service logger. */
export function createKafkaClient(connection: KafkaConnection): Kafka {
  if (connection.brokers.length === 0) throw new Error('Kafka: at least one broker is required');
  const logger = connection.logger?.child({ component: 'kafkajs' });
  return new Kafka({
    clientId: connection.clientId ?? 'scoregate',
    brokers: [...connection.brokers],
    connectionTimeout: 5_000,
    requestTimeout: 30_000,
    retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 5_000 },
    logLevel: logger === undefined ? logLevel.NOTHING : logLevel.WARN,
    logCreator:
      () =>
      ({ level, log }: LogEntry) => {
        if (logger === undefined) return;
        const { message, ...fields } = log;
        if (level <= logLevel.ERROR) logger.error(fields, message);
        else logger.warn(fields, message);
      },
  });
}

/** Splits `host:port,host:port` (as in KAFKA_BROKERS) into broker addresses. */
export function parseBrokers(text: string): string[] {
  return text
    .split(',')
    .map((broker) => broker.trim())
    .filter((broker) => broker !== '');
}

import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { setting, uniqueSuffix, withTimeout } from './support.js';

const KAFKA_BROKERS = setting('KAFKA_BROKERS', '127.0.0.1:9092')
  .split(',')
  .map((b) => b.trim())
  .filter((b) => b !== '');

describe(`kafka at ${KAFKA_BROKERS.join(',')}`, () => {
  it('produces and consumes one message on a fresh topic', async () => {
    const suffix = uniqueSuffix();
    const topic = `scoregate-infra-smoke-${suffix}`;
    const value = `hello-${suffix}`;
    const kafka = new Kafka({
      clientId: 'scoregate-infra-smoke',
      brokers: KAFKA_BROKERS,
      connectionTimeout: 5_000,
      requestTimeout: 15_000,
      retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 2_000 },
      // Failures surface as thrown errors; kafkajs retry chatter (e.g. the group coordinator
      // not being available yet on a fresh broker) would only add noise.
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    const consumer = kafka.consumer({ groupId: `scoregate-infra-smoke-${suffix}` });
    try {
      await withTimeout(admin.connect(), 15_000, 'connecting the Kafka admin client');
      const created = await withTimeout(
        admin.createTopics({
          topics: [{ topic, numPartitions: 1, replicationFactor: 1 }],
          waitForLeaders: true,
        }),
        20_000,
        `creating topic ${topic}`,
      );
      expect(created).toBe(true);

      await withTimeout(producer.connect(), 15_000, 'connecting the Kafka producer');
      await withTimeout(
        producer.send({ topic, messages: [{ key: 'smoke', value }] }),
        15_000,
        `producing to ${topic}`,
      );

      await withTimeout(consumer.connect(), 15_000, 'connecting the Kafka consumer');
      await withTimeout(
        consumer.subscribe({ topics: [topic], fromBeginning: true }),
        15_000,
        'subscribing',
      );
      const received = new Promise<string>((resolve) => {
        void consumer.run({
          eachMessage: async ({ message }) => {
            resolve(message.value?.toString('utf8') ?? '');
          },
        });
      });
      expect(await withTimeout(received, 40_000, `consuming from ${topic}`)).toBe(value);
    } finally {
      await Promise.allSettled([
        withTimeout(consumer.disconnect(), 10_000, 'disconnecting the consumer'),
        withTimeout(producer.disconnect(), 10_000, 'disconnecting the producer'),
      ]);
      await withTimeout(
        admin.deleteTopics({ topics: [topic], timeout: 5_000 }),
        10_000,
        'deleting the topic',
      ).catch(() => undefined);
      await withTimeout(admin.disconnect(), 10_000, 'disconnecting the admin client').catch(
        () => undefined,
      );
    }
  });
});

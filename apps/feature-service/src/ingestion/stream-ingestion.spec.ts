/**
 * Stream ingestion against the real Kafka (KAFKA_BROKERS) and the real Redis store (REDIS_URL),
 * each run on its own topics, consumer groups and key prefix.
 */
import {
  createKafkaConsumer,
  createKafkaProducer,
  createTopics,
  parseBrokers,
  type ConsumedMessage,
  type MessageConsumer,
  type MessageProducer,
  deadLetterHeaders,
  deadLetterTopicOf,
} from '@scoregate/messaging';
import { createLogger } from '@scoregate/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultFeatureViewsFile, loadFeatureViews } from '../feature-views.js';
import { createFeatureStore, type OpenedFeatureStore } from '../store-factory.js';
import { startPrivateRedis } from '@scoregate/test-servers';
import {
  differences,
  encodeEvent,
  generateStream,
  recordOf,
  VIEW,
} from './feature-events.fixture.js';
import { FEATURE_UPDATED_TYPE } from './feature-updated-decoding.js';
import { createFeatureIngestor } from './feature-ingestor.js';

const brokers = parseBrokers(process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092');
const run = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
const catalog = await loadFeatureViews(defaultFeatureViewsFile);
const logger = createLogger({ service: 'stream-ingestion-spec', level: 'warn' });

let opened: OpenedFeatureStore;
let producer: MessageProducer;
const consumers: MessageConsumer[] = [];

beforeAll(async () => {
  opened = await createFeatureStore(
    {
      FEATURE_STORE: 'redis',
      REDIS_URL: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379',
      FEATURE_REDIS_PREFIX: `sg:test:ingest:${run}:`,
      FEATURE_REDIS_TIMEOUT_MS: 5000,
      FEATURE_SEED_FILE: undefined,
    },
    { info: () => undefined, warn: () => undefined },
    { catalog, connectWaitMs: 5000 },
  );
  producer = await createKafkaProducer({ brokers, clientId: 'stream-ingestion-spec' });
});

afterAll(async () => {
  await Promise.allSettled(consumers.map((consumer) => consumer.stop()));
  await producer?.close();
  await opened?.close();
});

async function waitUntil(probe: () => Promise<boolean>, ms: number, what: string): Promise<number> {
  const started = Date.now();
  while (!(await probe())) {
    if (Date.now() - started > ms) throw new Error(`${what}: not reached within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return Date.now() - started;
}

async function startIngestion(topic: string, store = opened.store): Promise<MessageConsumer> {
  const consumer = await createKafkaConsumer({
    brokers,
    logger,
    groupId: `ingest-${topic}`,
    topics: [topic],
    partitionsConsumedConcurrently: 6,
    retry: { initialMs: 50, maxMs: 500 },
    handleBatch: createFeatureIngestor({
      catalog,
      store,
      deadLetters: producer,
      logger,
    }),
  });
  consumers.push(consumer);
  return consumer;
}

describe('stream ingestion (real Kafka, real Redis)', () => {
  it('ingests 100,000 duplicated, shuffled events over 6 partitions into the newest value of each of 2,000 entities, then reports lag 0', async () => {
    const topic = `scoregate.features.updated.spec-${run}-bulk`;
    await createTopics(brokers, [{ name: topic, partitions: 6 }]);
    const stream = generateStream({
      seed: 20261122,
      entities: 2000,
      eventsPerEntity: 40,
      duplicateShare: 0.25,
      partitions: 6,
      keyPrefix: 'bulk-',
      nowMs: Date.now(),
    });
    expect(stream.records.length).toBeGreaterThanOrEqual(100_000);

    let started = Date.now();
    for (let i = 0; i < stream.records.length; i += 5000)
      await producer.send(topic, stream.records.slice(i, i + 5000));
    const producedMs = Date.now() - started;
    started = Date.now();
    const consumer = await startIngestion(topic);
    await waitUntil(
      async () => (await consumer.lag()).every((p) => p.lag === 0),
      120_000,
      'consumer lag 0 on every partition',
    );
    const ingestedMs = Date.now() - started;
    // eslint-disable-next-line no-console -- the measured duration goes into the report and README
    console.info(
      `stream ingestion: ${stream.records.length} events (${stream.newest.size} entities, 6 partitions) produced in ${producedMs} ms, then ingested and committed in ${ingestedMs} ms (${Math.round((stream.records.length / ingestedMs) * 1000)} events/s)`,
    );
    expect(await differences(opened.store, stream)).toEqual({ count: 0 });
    const lag = await consumer.lag();
    expect(lag).toHaveLength(6);
    expect(lag.every((p) => p.lag === 0 && p.highWatermark === p.committedOffset)).toBe(true);
  });

  it('sends an undecodable, an invalid and a future-stamped event to <topic>.dlq with the reason, and applies the events after them on the same partition', async () => {
    const topic = `scoregate.features.updated.spec-${run}-poison`;
    const dlq = deadLetterTopicOf(topic);
    await createTopics(brokers, [
      { name: topic, partitions: 1 },
      { name: dlq, partitions: 1 },
    ]);
    const now = Date.now();
    const values = new Map([['calls_7d', { case: 'int64Value', value: 5n } as const]]);
    const after = new Map([['calls_7d', { case: 'int64Value', value: 6n } as const]]);
    await producer.send(topic, [
      recordOf(`p-${run}-1`, encodeEvent(`p-${run}-1`, now - 3000, values)),
      {
        key: `customer/p-${run}-garbage`,
        value: new Uint8Array([0xff, 0xff, 0xff]),
        headers: { type: FEATURE_UPDATED_TYPE },
      },
      recordOf(`p-${run}-2`, encodeEvent(`p-${run}-2`, now - 2000, values, 'no_such_view')),
      // A producer clock an hour fast: written, it would win over every later event of p-1.
      recordOf(`p-${run}-1`, encodeEvent(`p-${run}-1`, now + 3_600_000, values)),
      recordOf(`p-${run}-1`, encodeEvent(`p-${run}-1`, now - 1000, after)),
      recordOf(`p-${run}-3`, encodeEvent(`p-${run}-3`, now, after)),
    ]);
    const deadLetters: ConsumedMessage[] = [];
    consumers.push(
      await createKafkaConsumer({
        brokers,
        groupId: `dlq-reader-${run}`,
        topics: [dlq],
        handleMessage: async (message) => void deadLetters.push(message),
      }),
    );
    const consumer = await startIngestion(topic);
    await waitUntil(
      async () => deadLetters.length >= 3 && (await consumer.lag()).every((p) => p.lag === 0),
      30_000,
      'three dead letters and lag 0',
    );

    expect(
      deadLetters.map((m) => ({
        key: Buffer.from(m.key!).toString(),
        topic: m.headers[deadLetterHeaders.topic],
        partition: m.headers[deadLetterHeaders.partition],
        offset: m.headers[deadLetterHeaders.offset],
        type: m.headers['type'],
      })),
    ).toEqual([
      {
        key: `customer/p-${run}-garbage`,
        topic,
        partition: '0',
        offset: '1',
        type: FEATURE_UPDATED_TYPE,
      },
      {
        key: `customer/p-${run}-2`,
        topic,
        partition: '0',
        offset: '2',
        type: FEATURE_UPDATED_TYPE,
      },
      {
        key: `customer/p-${run}-1`,
        topic,
        partition: '0',
        offset: '3',
        type: FEATURE_UPDATED_TYPE,
      },
    ]);
    expect(deadLetters[0]!.headers[deadLetterHeaders.reason]).toMatch(
      /^cannot decode scoregate\.events\.v1\.FeatureUpdated: /,
    );
    expect(Buffer.from(deadLetters[0]!.value)).toEqual(Buffer.from([0xff, 0xff, 0xff]));
    expect(deadLetters[1]!.headers[deadLetterHeaders.reason]).toBe(
      'invalid event: view: unknown view "no_such_view"',
    );
    expect(deadLetters[2]!.headers[deadLetterHeaders.reason]).toMatch(
      /^event_time is (59 min 5\d s|1 h 0 min) ahead of the feature-service's clock \(tolerance 5\.0 s\): .* check the clock of source "ingestion-spec" \(NTP\)$/,
    );

    const read = await opened.store.read(
      [
        { entityType: 'customer', key: `p-${run}-1` },
        { entityType: 'customer', key: `p-${run}-3` },
      ],
      [{ view: VIEW, feature: 'calls_7d' }],
    );
    expect(read.map(([reading]) => reading)).toEqual([
      { status: 'ok', value: { case: 'int64Value', value: 6n }, eventTimeMs: now - 1000 },
      { status: 'ok', value: { case: 'int64Value', value: 6n }, eventTimeMs: now },
    ]);
  });

  it('retries the write while Redis is down, committing nothing and dead-lettering nothing, and applies it once Redis is back', async () => {
    const redis = await startPrivateRedis();
    const outage = await createFeatureStore(
      {
        FEATURE_STORE: 'redis',
        REDIS_URL: redis.url,
        FEATURE_REDIS_PREFIX: `sg:test:ingest:${run}:outage:`,
        FEATURE_REDIS_TIMEOUT_MS: 500,
        FEATURE_SEED_FILE: undefined,
      },
      { info: () => undefined, warn: () => undefined },
      { catalog, connectWaitMs: 5000 },
    );
    try {
      const topic = `scoregate.features.updated.spec-${run}-outage`;
      const dlq = deadLetterTopicOf(topic);
      await createTopics(brokers, [
        { name: topic, partitions: 2 },
        { name: dlq, partitions: 1 },
      ]);
      const deadLetters: ConsumedMessage[] = [];
      consumers.push(
        await createKafkaConsumer({
          brokers,
          groupId: `dlq-reader-outage-${run}`,
          topics: [dlq],
          handleMessage: async (message) => void deadLetters.push(message),
        }),
      );
      const consumer = await startIngestion(topic, outage.store);
      await redis.stop();
      const stream = generateStream({
        seed: 99,
        entities: 100,
        eventsPerEntity: 10,
        duplicateShare: 0.2,
        partitions: 2,
        keyPrefix: `o-${run}-`,
        nowMs: Date.now(),
      });
      await producer.send(topic, stream.records);

      // Down for 3 s: every attempt fails, nothing is committed, nothing goes to the DLQ.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const during = await consumer.lag();
      expect(during.reduce((n, p) => n + p.lag, 0)).toBe(stream.records.length);
      expect(deadLetters).toEqual([]);

      await redis.start();
      const recoveredMs = await waitUntil(
        async () => (await consumer.lag()).every((p) => p.lag === 0),
        30_000,
        'lag 0 after Redis is back',
      );
      expect(recoveredMs).toBeLessThan(15_000);
      expect(await differences(outage.store, stream)).toEqual({ count: 0 });
      expect(deadLetters).toEqual([]);
    } finally {
      await outage.close();
      await redis.dispose();
    }
  });
});

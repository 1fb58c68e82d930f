import { createInProcessBus, type ConsumedMessage, deadLetterHeaders } from '@scoregate/messaging';
import { createLogger } from '@scoregate/telemetry';
import { describe, expect, it } from 'vitest';
import type { FeatureStore } from '../feature-store.js';
import { defaultFeatureViewsFile, loadFeatureViews } from '../feature-views.js';
import { createMemoryFeatureStore } from '../memory-feature-store.js';
import {
  differences,
  encodeEvent,
  generateStream,
  recordOf,
  VIEW,
} from './feature-events.fixture.js';
import { createFeatureIngestor } from './feature-ingestor.js';

const catalog = await loadFeatureViews(defaultFeatureViewsFile);
const logger = createLogger({ service: 'ingestor-spec', level: 'silent' });
const TOPIC = 'features';

async function waitUntil(probe: () => boolean | Promise<boolean>, ms: number, what: string) {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function ingest(store: FeatureStore, partitions = 1) {
  const bus = createInProcessBus();
  bus.createTopics([{ name: TOPIC, partitions }]);
  const deadLetters: ConsumedMessage[] = [];
  bus.consumer({
    groupId: 'dlq-reader',
    topics: [`${TOPIC}.dlq`],
    handleMessage: async (m) => void deadLetters.push(m),
  });
  const consumer = bus.consumer({
    groupId: 'ingest',
    topics: [TOPIC],
    maxBatchMessages: 100,
    retry: { initialMs: 5, maxMs: 20 },
    handleBatch: createFeatureIngestor({ catalog, store, deadLetters: bus.producer(), logger }),
  });
  return { producer: bus.producer(), consumer, deadLetters };
}

describe('feature ingestor', () => {
  it('ends every entity at its newest event, whatever the duplicates and the order', async () => {
    const store = createMemoryFeatureStore({ catalog });
    const stream = generateStream({
      seed: 7,
      entities: 50,
      eventsPerEntity: 20,
      duplicateShare: 0.5,
      partitions: 3,
      keyPrefix: 'u-',
      nowMs: Date.now(),
    });
    const { producer, consumer } = ingest(store, 3);
    await producer.send(TOPIC, stream.records);
    await waitUntil(
      async () => (await consumer.lag()).every((p) => p.lag === 0),
      10_000,
      'caught up',
    );
    expect(await differences(store, stream)).toEqual({ count: 0 });
  });

  it('sends an undecodable and an invalid event to the dead-letter topic and applies the next ones', async () => {
    const store = createMemoryFeatureStore({ catalog });
    const { producer, consumer, deadLetters } = ingest(store);
    const now = Date.now();
    const values = new Map([['plan_tier', { case: 'int64Value', value: 3n } as const]]);
    await producer.send(TOPIC, [
      recordOf('a', encodeEvent('a', now - 2000, values)),
      { key: 'customer/b', value: new Uint8Array([0xff, 0xff]), headers: { trace: 'x' } },
      recordOf('c', encodeEvent('c', now - 1000, values, 'no_such_view')),
      recordOf('d', encodeEvent('d', now, values)),
    ]);
    await waitUntil(
      async () => (await consumer.lag())[0]!.lag === 0 && deadLetters.length === 2,
      5_000,
      'caught up',
    );
    const read = await store.read(
      [
        { entityType: 'customer', key: 'a' },
        { entityType: 'customer', key: 'd' },
      ],
      [{ view: VIEW, feature: 'plan_tier' }],
    );
    expect(read.map((row) => row[0])).toEqual([
      { status: 'ok', value: { case: 'int64Value', value: 3n }, eventTimeMs: now - 2000 },
      { status: 'ok', value: { case: 'int64Value', value: 3n }, eventTimeMs: now },
    ]);
    expect(
      deadLetters.map((m) => [
        Buffer.from(m.key!).toString(),
        m.headers[deadLetterHeaders.offset],
        m.headers[deadLetterHeaders.partition],
        m.headers[deadLetterHeaders.topic],
      ]),
    ).toEqual([
      ['customer/b', '1', '0', TOPIC],
      ['customer/c', '2', '0', TOPIC],
    ]);
    expect(deadLetters[0]!.headers[deadLetterHeaders.reason]).toMatch(/^cannot decode/);
    expect(deadLetters[0]!.headers['trace']).toBe('x');
    expect(Buffer.from(deadLetters[0]!.value)).toEqual(Buffer.from([0xff, 0xff]));
    expect(deadLetters[1]!.headers[deadLetterHeaders.reason]).toBe(
      'invalid event: view: unknown view "no_such_view"',
    );
  });

  it('dead-letters an event with a NaN value and writes none of its values', async () => {
    const store = createMemoryFeatureStore({ catalog });
    const { producer, consumer, deadLetters } = ingest(store);
    const now = Date.now();
    const nan = new Map([
      ['plan_tier', { case: 'int64Value', value: 3n } as const],
      ['signal_snr_db', { case: 'doubleValue', value: Number.NaN } as const],
    ]);
    await producer.send(TOPIC, [recordOf('n', encodeEvent('n', now, nan))]);
    await waitUntil(
      async () => (await consumer.lag())[0]!.lag === 0 && deadLetters.length === 1,
      5_000,
      'caught up',
    );
    expect(deadLetters[0]!.headers[deadLetterHeaders.reason]).toBe(
      'invalid event: values["signal_snr_db"]: must be a finite number, got NaN',
    );
    const read = await store.read(
      [{ entityType: 'customer', key: 'n' }],
      [
        { view: VIEW, feature: 'plan_tier' },
        { view: VIEW, feature: 'signal_snr_db' },
      ],
    );
    expect(read[0]!.map((reading) => reading.status)).toEqual(['missing', 'missing']);
  });

  it('dead-letters an event stamped an hour ahead of its clock, naming the skew and the source, and applies the next one', async () => {
    const store = createMemoryFeatureStore({ catalog });
    const { producer, consumer, deadLetters } = ingest(store);
    const now = Date.now();
    const tier = (value: bigint) =>
      new Map([['plan_tier', { case: 'int64Value', value } as const]]);
    await producer.send(TOPIC, [
      recordOf('f', encodeEvent('f', now + 3_600_000, tier(9n))),
      recordOf('f', encodeEvent('f', now - 1_000, tier(2n))),
    ]);
    await waitUntil(
      async () => (await consumer.lag())[0]!.lag === 0 && deadLetters.length === 1,
      5_000,
      'caught up',
    );
    expect(deadLetters[0]!.headers[deadLetterHeaders.reason]).toMatch(
      /^event_time is 1 h 0 min ahead of the feature-service's clock \(tolerance 5\.0 s\): a value stamped in the future would win every later write and never turn STALE; check the clock of source "ingestion-spec" \(NTP\)$/,
    );
    // The future value did not win: the later write at the true time is what the store holds.
    const [[reading]] = await store.read(
      [{ entityType: 'customer', key: 'f' }],
      [{ view: VIEW, feature: 'plan_tier' }],
    );
    expect(reading).toEqual({
      status: 'ok',
      value: { case: 'int64Value', value: 2n },
      eventTimeMs: now - 1_000,
    });
  });

  it('retries a failing store write without committing or dead-lettering, then applies it', async () => {
    const memory = createMemoryFeatureStore({ catalog });
    let down = true;
    let attempts = 0;
    const store: FeatureStore = {
      read: (...args) => memory.read(...args),
      write: async (...args) => {
        attempts++;
        if (down) throw new Error('Redis unavailable');
        return memory.write(...args);
      },
    };
    const { producer, consumer, deadLetters } = ingest(store);
    const stream = generateStream({
      seed: 3,
      entities: 5,
      eventsPerEntity: 4,
      duplicateShare: 0,
      partitions: 1,
      keyPrefix: 'r-',
      nowMs: Date.now(),
    });
    await producer.send(TOPIC, stream.records);
    await waitUntil(() => attempts >= 3, 5_000, 'three failed attempts');
    expect((await consumer.lag())[0]!.lag).toBe(20);
    down = false;
    await waitUntil(async () => (await consumer.lag())[0]!.lag === 0, 5_000, 'caught up');
    expect(await differences(store, stream)).toEqual({ count: 0 });
    expect(deadLetters).toEqual([]);
  });
});

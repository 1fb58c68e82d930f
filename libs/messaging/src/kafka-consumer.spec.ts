import { randomBytes } from 'node:crypto';
import { context } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBrokers } from './kafka-client.js';
import { createTopics } from './kafka-admin.js';
import { createKafkaConsumer } from './kafka-consumer.js';
import { createKafkaProducer } from './kafka-producer.js';
import type { ConsumedMessage, MessageConsumer, MessageProducer } from './messages.js';
import {
  activeTraceId,
  contextWithTrace,
  installTelemetryForTests,
  uniqueSuffix,
  waitUntil,
} from './test-support.js';

const brokers = parseBrokers(process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092');
const telemetry = installTelemetryForTests();
const run = uniqueSuffix();
const encoder = new TextEncoder();
const decoder = new TextDecoder();

let producer: MessageProducer;
const consumers: MessageConsumer[] = [];

beforeAll(async () => {
  producer = await createKafkaProducer({ brokers, clientId: 'messaging-spec' });
});

afterAll(async () => {
  await Promise.allSettled(consumers.map((c) => c.stop()));
  await producer?.close();
});

async function topicWith(partitions: number): Promise<string> {
  const name = `messaging-spec-${run}-${Math.random().toString(36).slice(2, 8)}`;
  await createTopics(brokers, [{ name, partitions }]);
  return name;
}

/** Records `key-i` → value `i` for keys `k0..k{keys-1}`, `perKey` each, interleaved. */
function records(keys: number, perKey: number) {
  return Array.from({ length: keys * perKey }, (_, n) => ({
    key: `k${n % keys}`,
    value: encoder.encode(String(Math.floor(n / keys))),
  }));
}

function keyOf(message: ConsumedMessage): string {
  return decoder.decode(message.key);
}

describe('Kafka producer and consumer', () => {
  it('delivers every record with its key, bytes and headers, in order per key', async () => {
    const topic = await topicWith(3);
    await producer.send(topic, [
      ...records(10, 50).map((r) => ({ ...r, headers: { 'content-type': 'text/plain' } })),
    ]);
    const seen = new Map<string, number[]>();
    let headers: Readonly<Record<string, string>> | undefined;
    consumers.push(
      await createKafkaConsumer({
        brokers,
        groupId: `order-${run}`,
        topics: [topic],
        handleMessage: async (message) => {
          headers = message.headers;
          const list = seen.get(keyOf(message)) ?? [];
          list.push(Number(decoder.decode(message.value)));
          seen.set(keyOf(message), list);
        },
      }),
    );
    await waitUntil(
      () => [...seen.values()].reduce((n, list) => n + list.length, 0) >= 500,
      30_000,
      'all 500 records consumed',
    );
    expect(seen.size).toBe(10);
    for (const list of seen.values()) expect(list).toEqual([...Array(50).keys()]);
    expect(headers?.['content-type']).toBe('text/plain');
  });

  it('carries the W3C trace context from the producer to the message handler', async () => {
    const topic = await topicWith(1);
    const traceId = randomBytes(16).toString('hex');
    await context.with(contextWithTrace(traceId), () =>
      producer.send(topic, [{ key: 'k', value: encoder.encode('traced') }]),
    );
    let seenTraceId: string | undefined;
    let traceparent: string | undefined;
    consumers.push(
      await createKafkaConsumer({
        brokers,
        groupId: `trace-${run}`,
        topics: [topic],
        handleMessage: async (message) => {
          traceparent = message.headers['traceparent'];
          seenTraceId = activeTraceId();
        },
      }),
    );
    await waitUntil(() => seenTraceId !== undefined, 30_000, 'the traced record consumed');
    expect(traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    expect(seenTraceId).toBe(traceId);
  });

  it('retries a failing handler without committing or skipping, then goes on', async () => {
    const topic = await topicWith(1);
    await producer.send(topic, records(1, 20));
    const attempts = new Map<number, number>();
    const done: number[] = [];
    const consumer = await createKafkaConsumer({
      brokers,
      groupId: `retry-${run}`,
      topics: [topic],
      maxBatchMessages: 5,
      retry: { initialMs: 20, maxMs: 100 },
      handleBatch: async ({ messages }) => {
        const first = Number(decoder.decode(messages[0]!.value));
        attempts.set(first, (attempts.get(first) ?? 0) + 1);
        // The batch starting at 10 fails twice (a store outage), then succeeds.
        if (first === 10 && attempts.get(first)! <= 2) throw new Error('store unavailable');
        done.push(...messages.map((m) => Number(decoder.decode(m.value))));
      },
    });
    consumers.push(consumer);
    await waitUntil(() => done.length >= 20, 30_000, 'all 20 records handled');
    expect(done).toEqual([...Array(20).keys()]);
    expect(attempts.get(10)).toBe(3);
    await waitUntil(
      async () => (await consumer.lag()).every((p) => p.lag === 0),
      10_000,
      'lag 0 after the retried batch',
    );
  });

  it('a new member of the group resumes after the last committed message, losing none', async () => {
    const topic = await topicWith(1);
    await producer.send(topic, records(1, 100));
    const first: number[] = [];
    const groupId = `resume-${run}`;
    const a = await createKafkaConsumer({
      brokers,
      groupId,
      topics: [topic],
      maxBatchMessages: 10,
      handleBatch: async ({ messages }) => {
        first.push(...messages.map((m) => Number(decoder.decode(m.value))));
      },
    });
    await waitUntil(() => first.length >= 100, 30_000, 'the first member handled all 100');
    await a.stop();
    await producer.send(
      topic,
      Array.from({ length: 50 }, (_, i) => ({ key: 'k0', value: encoder.encode(String(100 + i)) })),
    );
    const second: number[] = [];
    consumers.push(
      await createKafkaConsumer({
        brokers,
        groupId,
        topics: [topic],
        handleBatch: async ({ messages }) => {
          second.push(...messages.map((m) => Number(decoder.decode(m.value))));
        },
      }),
    );
    await waitUntil(() => second.length >= 50, 30_000, 'the second member handled the new 50');
    expect(second).toEqual(Array.from({ length: 50 }, (_, i) => 100 + i));
  });

  it('reports the backlog as lag() and scoregate.messaging.consumer.lag, both 0 after catch-up', async () => {
    const topic = await topicWith(2);
    await producer.send(topic, records(4, 50));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let handled = 0;
    const groupId = `lag-${run}`;
    const consumer = await createKafkaConsumer({
      brokers,
      groupId,
      topics: [topic],
      handleBatch: async ({ messages }, { heartbeat }) => {
        await Promise.race([gate, new Promise((r) => setTimeout(r, 20_000))]);
        await heartbeat();
        handled += messages.length;
      },
    });
    consumers.push(consumer);
    const before = await consumer.lag();
    expect(before.map((p) => p.partition)).toEqual([0, 1]);
    expect(before.reduce((n, p) => n + p.lag, 0)).toBe(200);
    const gaugeBefore = await telemetry.collectLag();
    expect(
      gaugeBefore.get(`${groupId}/${topic}/0`)! + gaugeBefore.get(`${groupId}/${topic}/1`)!,
    ).toBe(200);

    release();
    await waitUntil(() => handled >= 200, 30_000, 'the backlog handled');
    await waitUntil(
      async () => (await consumer.lag()).every((p) => p.lag === 0),
      10_000,
      'lag() 0',
    );
    const gaugeAfter = await telemetry.collectLag();
    expect(gaugeAfter.get(`${groupId}/${topic}/0`)).toBe(0);
    expect(gaugeAfter.get(`${groupId}/${topic}/1`)).toBe(0);
  });

  it('hands partitions over on a rebalance without losing a message', async () => {
    const topic = await topicWith(6);
    const groupId = `rebalance-${run}`;
    const seen = new Set<string>();
    const handler = async ({ messages }: { messages: readonly ConsumedMessage[] }) => {
      await new Promise((r) => setTimeout(r, 5));
      for (const m of messages) seen.add(`${m.partition}/${m.offset}`);
    };
    const a = await createKafkaConsumer({
      brokers,
      groupId,
      topics: [topic],
      maxBatchMessages: 50,
      handleBatch: handler,
    });
    consumers.push(a);
    const total = 3000;
    for (let i = 0; i < 6; i++) await producer.send(topic, records(60, total / 60 / 6));
    const b = await createKafkaConsumer({
      brokers,
      groupId,
      topics: [topic],
      maxBatchMessages: 50,
      handleBatch: handler,
    });
    consumers.push(b);
    await a.stop();
    await waitUntil(() => seen.size >= total, 60_000, `all ${total} messages handled`);
    expect(seen.size).toBe(total);
    await waitUntil(async () => (await b.lag()).every((p) => p.lag === 0), 10_000, 'lag 0');
  });
});

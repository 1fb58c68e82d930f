import { randomBytes } from 'node:crypto';
import { context } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { createInProcessBus } from './in-process-bus.js';
import type { ConsumedMessage } from './messages.js';
import {
  activeTraceId,
  contextWithTrace,
  installTelemetryForTests,
  waitUntil,
} from './test-support.js';

const telemetry = installTelemetryForTests();
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const valueOf = (m: ConsumedMessage) => Number(decoder.decode(m.value));

function records(keys: number, perKey: number) {
  return Array.from({ length: keys * perKey }, (_, n) => ({
    key: `k${n % keys}`,
    value: encoder.encode(String(Math.floor(n / keys))),
  }));
}

describe('in-process bus', () => {
  it('delivers every record in order per key, across partitions', async () => {
    const bus = createInProcessBus();
    bus.createTopics([{ name: 't', partitions: 4 }]);
    const seen = new Map<string, number[]>();
    const consumer = bus.consumer({
      groupId: 'g',
      topics: ['t'],
      handleMessage: async (m) => {
        const key = decoder.decode(m.key);
        seen.set(key, [...(seen.get(key) ?? []), valueOf(m)]);
      },
    });
    await bus.producer().send('t', records(8, 25));
    await waitUntil(
      async () => (await consumer.lag()).every((p) => p.lag === 0),
      5_000,
      'caught up',
    );
    expect(seen.size).toBe(8);
    for (const list of seen.values()) expect(list).toEqual([...Array(25).keys()]);
    await consumer.stop();
  });

  it('runs each message handler in the producer trace context', async () => {
    const bus = createInProcessBus();
    const traceId = randomBytes(16).toString('hex');
    let seen: string | undefined;
    bus.consumer({
      groupId: 'g',
      topics: ['t'],
      handleMessage: async () => {
        seen = activeTraceId();
      },
    });
    await context.with(contextWithTrace(traceId), () =>
      bus.producer().send('t', [{ value: encoder.encode('x') }]),
    );
    await waitUntil(() => seen !== undefined, 5_000, 'handled');
    expect(seen).toBe(traceId);
  });

  it('retries a failing batch without skipping it and commits only after it succeeded', async () => {
    const bus = createInProcessBus();
    let failures = 2;
    const done: number[] = [];
    const consumer = bus.consumer({
      groupId: 'g',
      topics: ['t'],
      maxBatchMessages: 4,
      retry: { initialMs: 5, maxMs: 20 },
      handleBatch: async ({ messages }) => {
        if (valueOf(messages[0]!) === 4 && failures-- > 0) throw new Error('store unavailable');
        done.push(...messages.map(valueOf));
      },
    });
    await bus.producer().send('t', records(1, 12));
    await waitUntil(() => done.length >= 12, 5_000, 'all handled');
    expect(done).toEqual([...Array(12).keys()]);
    expect(failures).toBe(-1);
    expect((await consumer.lag())[0]!.lag).toBe(0);
  });

  it('hands a batch to its handler once when the handler sends before anything else awaits', async () => {
    const bus = createInProcessBus();
    const producer = bus.producer();
    let calls = 0;
    const consumer = bus.consumer({
      groupId: 'forwarder',
      topics: ['in'],
      handleBatch: async ({ messages }) => {
        calls++;
        await producer.send(
          'out',
          messages.map((m) => ({ value: m.value })),
        );
      },
    });
    await producer.send('in', records(1, 3));
    await waitUntil(async () => (await consumer.lag())[0]!.lag === 0, 5_000, 'caught up');
    expect(calls).toBe(1);
  });

  it('reports lag through lag() and scoregate.messaging.consumer.lag until the backlog is handled', async () => {
    const bus = createInProcessBus();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const consumer = bus.consumer({
      groupId: 'lagging',
      topics: ['backlog'],
      handleBatch: () => gate,
    });
    await bus.producer().send('backlog', records(1, 30));
    expect((await consumer.lag())[0]).toMatchObject({
      highWatermark: '30',
      committedOffset: '0',
      lag: 30,
    });
    expect((await telemetry.collectLag()).get('lagging/backlog/0')).toBe(30);
    release();
    await waitUntil(async () => (await consumer.lag())[0]!.lag === 0, 5_000, 'lag 0');
    expect((await telemetry.collectLag()).get('lagging/backlog/0')).toBe(0);
    await consumer.stop();
  });

  it('spreads partitions over the members of a group and hands them over when one stops', async () => {
    const bus = createInProcessBus();
    bus.createTopics([{ name: 't', partitions: 4 }]);
    const byMember = [new Set<number>(), new Set<number>()];
    const handled = new Set<string>();
    const members = byMember.map((partitions) =>
      bus.consumer({
        groupId: 'g',
        topics: ['t'],
        handleMessage: async (m) => {
          partitions.add(m.partition);
          handled.add(`${m.partition}/${m.offset}`);
        },
      }),
    );
    await bus.producer().send('t', records(16, 5));
    await waitUntil(() => handled.size >= 80, 5_000, 'first 80 handled');
    expect(byMember[0]!.size).toBe(2);
    expect(byMember[1]!.size).toBe(2);
    await members[0]!.stop();
    byMember[1]!.clear();
    await bus.producer().send('t', records(16, 5));
    await waitUntil(() => handled.size >= 160, 5_000, 'all 160 handled');
    expect(byMember[1]!.size).toBe(4);
  });

  it('stop() lets the batch in hand finish and commits it', async () => {
    const bus = createInProcessBus();
    let finished = false;
    const consumer = bus.consumer({
      groupId: 'g',
      topics: ['t'],
      handleBatch: async () => {
        await new Promise((r) => setTimeout(r, 100));
        finished = true;
      },
    });
    await bus.producer().send('t', records(1, 3));
    await new Promise((r) => setTimeout(r, 10));
    await consumer.stop();
    expect(finished).toBe(true);
    expect((await consumer.lag())[0]!.lag).toBe(0);
  });
});

import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { context } from '@opentelemetry/api';
import { fromBinary, fromJsonString } from '@bufbuild/protobuf';
import { PredictionLoggedSchema } from '@scoregate/contracts';
import { createKafkaConsumer, createTopics, type ConsumedMessage } from '@scoregate/messaging';
import { createLogger } from '@scoregate/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPredictionLog, type PredictionLogOptions } from './prediction-log.js';
import {
  answerEvent,
  contextWithTrace,
  installTelemetryForTests,
  uniqueSuffix,
  waitUntil,
} from './spec-support.test.js';

const telemetry = installTelemetryForTests();
const logger = createLogger({ service: 'gateway-spec', level: 'silent' });
const run = uniqueSuffix();
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prediction-log-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function fileLog(path: string, extra: Partial<PredictionLogOptions> = {}) {
  return createPredictionLog(
    { sink: { kind: 'file', path }, bufferSize: 10_000, batchSize: 100, lingerMs: 5, ...extra },
    logger,
  );
}

describe('prediction log, file mode (embedded, no broker)', () => {
  it('keeps nothing of a delivered event: what its builder held can be collected', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const path = join(dir, 'released.jsonl');
    const log = fileLog(path);
    const held: WeakRef<object>[] = [];
    for (let n = 0; n < 50; n++) {
      // Stands for what a lazily built event holds: the request, its features.
      const payload = { bytes: new Uint8Array(64 * 1024), n };
      held.push(new WeakRef(payload));
      log.record(() => ({ ...answerEvent(run, payload.n), tenant: String(payload.bytes.length) }));
    }
    await waitUntil(() => log.stats().delivered === 50, 5_000, 'all 50 delivered');
    for (let i = 0; i < 5 && held.some((r) => r.deref() !== undefined); i++) {
      await new Promise((r) => setTimeout(r, 20));
      gc();
    }
    expect(held.filter((r) => r.deref() !== undefined)).toHaveLength(0);
    await log.close();
  });

  it('writes every recorded answer to the file as one JSON line each, in record order', async () => {
    const path = join(dir, 'nested', 'predictions.jsonl');
    const log = fileLog(path);
    for (let n = 0; n < 1_000; n++) log.record(answerEvent(run, n));
    await log.close();

    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
    expect(lines).toHaveLength(1_000);
    const events = lines.map((line) => fromJsonString(PredictionLoggedSchema, line));
    expect(events.map((e) => e.requestId)).toEqual(
      Array.from({ length: 1_000 }, (_, n) => `${run}-${n}`),
    );
    const first = events[0]!;
    expect(first.scorer).toBe('truck-roll-priority');
    expect(first.entityKeys[0]?.key).toBe('c-0');
    expect(first.servedBy?.version).toBe('3');
    expect(first.loggedAt?.seconds).toBeGreaterThan(0n);
    expect(first.outputs[0]?.values).toEqual([0.58, 0.42]);
    expect(
      first.features.map((f) => [f.ref, f.missing, f.stale, f.defaulted, f.value?.kind.value]),
    ).toEqual([
      ['customer_profile:tenure_months', false, false, false, 37],
      ['customer_profile:open_tickets', true, false, true, 0],
      ['line_quality:snr_db', false, false, false, 21.5],
    ]);
    expect(log.stats()).toMatchObject({
      recorded: 1_000,
      delivered: 1_000,
      dropped: 0,
      buffered: 0,
    });
  });

  it('builds an event given as a function in the flusher; one that fails is dropped and counted, the rest delivered', async () => {
    const path = join(dir, 'lazy.jsonl');
    const log = fileLog(path);
    log.record(() => answerEvent(run, 0));
    log.record(() => {
      throw new Error('no answer to log');
    });
    log.record(answerEvent(run, 2));
    await log.close();
    const ids = (await readFile(path, 'utf8'))
      .trimEnd()
      .split('\n')
      .map((line) => fromJsonString(PredictionLoggedSchema, line).requestId);
    expect(ids).toEqual([`${run}-0`, `${run}-2`]);
    expect(log.stats()).toMatchObject({ recorded: 3, delivered: 2, dropped: 1, buffered: 0 });
  });

  it('record() takes microseconds and never throws, even while the sink keeps failing', async () => {
    // A file path under a regular file can never be opened: every send fails.
    const blocker = join(dir, 'not-a-folder');
    await writeFile(blocker, '');
    const log = fileLog(join(blocker, 'predictions.jsonl'), { bufferSize: 5_000 });
    const durations: number[] = [];
    for (let n = 0; n < 20_000; n++) {
      const event = answerEvent(run, n);
      const started = process.hrtime.bigint();
      log.record(event);
      durations.push(Number(process.hrtime.bigint() - started) / 1_000);
      if (n % 1_000 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    durations.sort((a, b) => a - b);
    const p99Micros = durations[Math.floor(durations.length * 0.99)]!;
    expect(p99Micros).toBeLessThan(50);
    expect(log.stats().failedSends).toBeGreaterThan(0);
    await log.close(200);
  });

  it('beyond the bound, drops new events and counts every one in stats() and the metric', async () => {
    const before = await telemetry.collectDropped();
    const blocker = join(dir, 'blocker-2');
    await writeFile(blocker, '');
    const log = fileLog(join(blocker, 'predictions.jsonl'), { bufferSize: 250 });
    for (let n = 0; n < 1_000; n++) log.record(answerEvent(run, n));
    expect(log.stats()).toMatchObject({ recorded: 250, dropped: 750, buffered: 250 });
    expect((await telemetry.collectDropped()) - before).toBe(750);
    await log.close(100);
    // Closing without a sink to flush to gives up on the 250 held, and says so in the count.
    expect(log.stats().dropped).toBe(1_000);
    log.record(answerEvent(run, 1_000));
    expect(log.stats().dropped).toBe(1_001);
  });

  it('recordAll() keeps a batch of events in order; beyond the bound it keeps the first and counts the rest', async () => {
    const before = await telemetry.collectDropped();
    const blocker = join(dir, 'blocker-all');
    await writeFile(blocker, '');
    const log = fileLog(join(blocker, 'predictions.jsonl'), {
      bufferSize: 10,
      retry: { initialMs: 10, maxMs: 20 },
    });
    log.recordAll(Array.from({ length: 4 }, (_, n) => () => answerEvent(run, n)));
    log.recordAll(Array.from({ length: 8 }, (_, n) => answerEvent(run, 4 + n)));
    expect(log.stats()).toMatchObject({ recorded: 10, dropped: 2, buffered: 10 });
    expect((await telemetry.collectDropped()) - before).toBe(2);
    await rm(blocker);
    await log.close();
    const written = (await readFile(join(blocker, 'predictions.jsonl'), 'utf8')).trimEnd();
    expect(
      written.split('\n').map((l) => fromJsonString(PredictionLoggedSchema, l).requestId),
    ).toEqual(Array.from({ length: 10 }, (_, n) => `${run}-${n}`));
  });

  it('says in the log when dropping starts and when it stops, then delivers what it kept', async () => {
    const lines: { msg: string; droppedNow?: number }[] = [];
    const watched = createLogger({
      service: 'gateway-spec',
      level: 'warn',
      destination: { write: (line: string) => void lines.push(JSON.parse(line)) },
    });
    // Until the blocker file is replaced by a folder, the log file cannot be opened.
    const blocker = join(dir, 'blocker-3');
    await writeFile(blocker, '');
    const log = createPredictionLog(
      {
        sink: { kind: 'file', path: join(blocker, 'predictions.jsonl') },
        bufferSize: 100,
        batchSize: 50,
        lingerMs: 5,
        retry: { initialMs: 10, maxMs: 50 },
      },
      watched,
    );
    for (let n = 0; n < 300; n++) log.record(answerEvent(run, n));
    expect(lines.filter((l) => l.msg.includes('dropping new events'))).toHaveLength(1);
    await rm(blocker);
    await waitUntil(() => log.stats().delivered === 100, 5_000, 'the 100 kept events delivered');
    expect(lines.find((l) => l.msg.includes('stopped dropping'))?.droppedNow).toBe(200);
    await log.close();
    const written = (await readFile(join(blocker, 'predictions.jsonl'), 'utf8')).trimEnd();
    expect(
      written.split('\n').map((l) => fromJsonString(PredictionLoggedSchema, l).requestId),
    ).toEqual(Array.from({ length: 100 }, (_, n) => `${run}-${n}`));
  });
});

describe('prediction log, Kafka mode (shared broker)', () => {
  const brokers = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');

  it('sends each event keyed by request id, with the trace context of its record() call', async () => {
    const topic = `prediction-log-spec-${run}`;
    await createTopics(brokers, [{ name: topic, partitions: 1 }]);
    const log = createPredictionLog(
      { sink: { kind: 'kafka', brokers, topic }, bufferSize: 1_000, batchSize: 50, lingerMs: 5 },
      logger,
    );
    const traceId = randomBytes(16).toString('hex');
    context.with(contextWithTrace(traceId), () => {
      for (let n = 0; n < 100; n++) log.record(answerEvent(run, n));
    });
    log.record(answerEvent(run, 100)); // outside any trace: no traceparent of another request
    const seen: ConsumedMessage[] = [];
    const consumer = await createKafkaConsumer({
      brokers,
      groupId: `prediction-log-spec-${run}`,
      topics: [topic],
      handleMessage: async (message) => {
        seen.push(message);
      },
    });
    try {
      await waitUntil(() => seen.length >= 101, 30_000, '101 events consumed');
    } finally {
      await consumer.stop();
      await log.close();
    }
    const events = seen.map((m) => fromBinary(PredictionLoggedSchema, m.value));
    expect(events.map((e) => e.requestId)).toEqual(
      Array.from({ length: 101 }, (_, n) => `${run}-${n}`),
    );
    expect(Buffer.from(seen[0]!.key!).toString()).toBe(`${run}-0`);
    expect(seen[0]!.headers['traceparent']).toContain(traceId);
    expect(seen[99]!.headers['traceparent']).toContain(traceId);
    expect(seen[100]!.headers['traceparent']).toBeUndefined();
    expect(log.stats()).toMatchObject({ recorded: 101, delivered: 101, dropped: 0 });
  });
});

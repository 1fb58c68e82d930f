/**
 * The join as a real process (retrain-service's dist, built here) against the real Kafka:
 * 50,000 predictions and their outcomes, shuffled, 10% of the records sent twice, 5% of the
 * outcomes sent before any prediction, retrain-service SIGKILLed twice while it consumes. The
 * labelled set must hold exactly the expected rows — none lost, none twice — and every count
 * (unmatched, duplicates) must be exact.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { create, toBinary } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import {
  OutcomeObservedSchema,
  PredictionLoggedSchema,
  RetrainService,
  type JoinCounts,
} from '@scoregate/contracts';
import {
  createKafkaProducer,
  createTopics,
  parseBrokers,
  type MessageProducer,
  type OutgoingRecord,
} from '@scoregate/messaging';
import { createRpcClient } from '@scoregate/rpc';
import { freePort, spawnService, type RunningService } from '@scoregate/stack';
import { seededRandom } from '@scoregate/test-servers';

const projectDir = fileURLToPath(new URL('../..', import.meta.url));
const brokers = parseBrokers(process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092');
const run = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
const predictionTopic = `scoregate.predictions.spec-${run}`;
const outcomeTopic = `scoregate.outcomes.spec-${run}`;
const dataDir = mkdtempSync(join(tmpdir(), 'join-process-'));
const children = new Set<RunningService>();
let producer: MessageProducer;

beforeAll(async () => {
  // The service runs from its build, as in production.
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-b', 'tsconfig.lib.json'], {
    cwd: projectDir,
    stdio: 'pipe',
  });
  await createTopics(brokers, [
    { name: predictionTopic, partitions: 3 },
    { name: outcomeTopic, partitions: 3 },
  ]);
  producer = await createKafkaProducer({ brokers, clientId: 'join-process-spec' });
});

afterAll(async () => {
  for (const child of children) child.process.kill('SIGKILL');
  await producer?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function startRetrain(port: number): Promise<RunningService> {
  const service = spawnService({
    name: 'retrain-service',
    port,
    env: {
      RETRAIN_DATA_DIR: dataDir,
      RETRAIN_KAFKA_BROKERS: brokers.join(','),
      RETRAIN_PREDICTION_TOPIC: predictionTopic,
      RETRAIN_OUTCOME_TOPIC: outcomeTopic,
      RETRAIN_CONSUMER_GROUP: `retrain-spec-${run}`,
      RETRAIN_KAFKA_SESSION_TIMEOUT_MS: '6000',
      OTEL_TRACES_EXPORTER: 'none',
      LOG_LEVEL: 'warn',
    },
  });
  children.add(service);
  void service.exited.then(() => children.delete(service));
  return service;
}

function joinStatus(port: number): Promise<JoinCounts | undefined> {
  const client = createRpcClient(RetrainService, { address: `127.0.0.1:${port}` });
  return client
    .getJoinStatus({}, { timeoutMs: 2_000 })
    .then((r) => r.counts)
    .catch(() => undefined)
    .finally(() => client.close());
}

async function waitFor(
  port: number,
  done: (counts: JoinCounts) => boolean,
  ms: number,
  what: string,
  service: RunningService,
): Promise<JoinCounts> {
  const deadline = Date.now() + ms;
  let last: JoinCounts | undefined;
  for (;;) {
    last = (await joinStatus(port)) ?? last;
    if (last !== undefined && done(last)) return last;
    if (Date.now() > deadline)
      throw new Error(
        `${what}: not within ${ms} ms; last counts ${JSON.stringify(last, (_, v) => (typeof v === 'bigint' ? Number(v) : v))}\n${service.lastLines().join('\n')}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface Item {
  requestId: string;
  batchIndex: number;
  shadow: boolean;
  label: number | undefined;
}

function predictionRecord(item: Item): OutgoingRecord {
  return {
    key: item.requestId,
    value: toBinary(
      PredictionLoggedSchema,
      create(PredictionLoggedSchema, {
        requestId: item.requestId,
        batchIndex: item.batchIndex,
        shadow: item.shadow,
        scorer: 'truck-roll',
        entityKeys: [{ entityType: 'site', key: `s-${item.batchIndex}` }],
        servedBy: { model: item.shadow ? 'candidate' : 'champion', version: '1' },
        features: [{ ref: 'site_stats:x', value: { kind: { case: 'doubleValue', value: 1.5 } } }],
        score: 0.25,
        loggedAt: timestampFromMs(Date.now() - 60_000),
      }),
    ),
  };
}

function outcomeRecord(requestId: string, batchIndex: number, label: number): OutgoingRecord {
  return {
    key: requestId,
    value: toBinary(
      OutcomeObservedSchema,
      create(OutcomeObservedSchema, {
        requestId,
        batchIndex,
        label,
        observedAt: timestampFromMs(Date.now() - 1_000),
        source: 'join-process-spec',
      }),
    ),
  };
}

async function send(topic: string, records: readonly OutgoingRecord[]): Promise<void> {
  for (let i = 0; i < records.length; i += 5_000)
    await producer.send(topic, records.slice(i, i + 5_000));
}

describe('the join as a process (real Kafka, SIGKILL twice)', () => {
  it('holds exactly the expected labelled rows and counts after 50,000 shuffled predictions and outcomes', async () => {
    const random = seededRandom(20261208);
    const served: Item[] = [];
    // 12,500 requests of 4 batch items: 50,000 served predictions.
    for (let r = 0; r < 12_500; r++)
      for (let b = 0; b < 4; b++)
        served.push({
          requestId: `req-${run}-${r}`,
          batchIndex: b,
          shadow: false,
          label: random() < 0.9 ? (random() < 0.3 ? 1 : 0) : undefined,
        });
    // 1,000 of them were also scored in shadow (same request id and item, kept apart).
    const shadows = served
      .slice(0, 4_000)
      .filter((_, i) => i % 4 === 0)
      .map((s) => ({ ...s, shadow: true }));
    const orphans = Array.from({ length: 500 }, (_, i) => ({
      requestId: `orphan-${run}-${i}`,
      label: 1,
    }));

    const shuffle = <T>(items: T[]): T[] => {
      for (let i = items.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [items[i], items[j]] = [items[j]!, items[i]!];
      }
      return items;
    };
    const withDuplicates = <T>(items: T[]): { records: T[]; duplicates: number } => {
      const again = items.filter(() => random() < 0.1);
      return { records: shuffle([...items, ...again]), duplicates: again.length };
    };
    const predictions = withDuplicates([...served, ...shadows].map(predictionRecord));
    const labelled = served.filter((s) => s.label !== undefined);
    const outcomes = withDuplicates([
      ...labelled.map((s) => outcomeRecord(s.requestId, s.batchIndex, s.label!)),
      ...orphans.map((o) => outcomeRecord(o.requestId, 0, o.label)),
    ]);
    // 5% of the outcomes go out before any prediction.
    const early = Math.round(outcomes.records.length * 0.05);
    await send(outcomeTopic, outcomes.records.slice(0, early));
    await send(predictionTopic, predictions.records.slice(0, 20_000));

    const port = await freePort();
    const first = await startRetrain(port);
    await waitFor(
      port,
      (c) => c.predictions + c.outcomes > 5_000n,
      60_000,
      'first run consumed',
      first,
    );
    first.process.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');

    await send(predictionTopic, predictions.records.slice(20_000));
    await send(
      outcomeTopic,
      outcomes.records.slice(early, Math.round(outcomes.records.length / 2)),
    );
    const second = await startRetrain(port);
    const beforeKill = await waitFor(
      port,
      (c) => c.labeledExamples > 10_000n,
      90_000,
      'second run joined',
      second,
    );
    second.process.kill('SIGKILL');
    expect(await second.exited).toBe('SIGKILL');
    expect(beforeKill.labeledExamples).toBeLessThan(BigInt(labelled.length));

    await send(outcomeTopic, outcomes.records.slice(Math.round(outcomes.records.length / 2)));
    const third = await startRetrain(port);
    const shadowLabelled = shadows.filter((s) => s.label !== undefined).length;
    const expected = {
      predictions: BigInt(served.length),
      shadowPredictions: BigInt(shadows.length),
      outcomes: BigInt(labelled.length + orphans.length),
      labeledExamples: BigInt(labelled.length),
      shadowLabeledExamples: BigInt(shadowLabelled),
      pendingPredictions: BigInt(served.length - labelled.length + shadows.length - shadowLabelled),
      pendingOutcomes: BigInt(orphans.length),
      expiredPredictions: 0n,
      expiredOutcomes: 0n,
      duplicatePredictions: BigInt(predictions.duplicates),
      duplicateOutcomes: BigInt(outcomes.duplicates),
      conflictingOutcomes: 0n,
    };
    const total = (c: JoinCounts) =>
      c.predictions +
      c.shadowPredictions +
      c.outcomes +
      c.duplicatePredictions +
      c.duplicateOutcomes;
    const all = expected.predictions + expected.shadowPredictions + expected.outcomes;
    const final = await waitFor(
      port,
      (c) => total(c) >= all + expected.duplicatePredictions + expected.duplicateOutcomes,
      120_000,
      'everything consumed',
      third,
    );
    expect({ ...final, $typeName: undefined }).toEqual({ ...expected, $typeName: undefined });
    await third.stop();

    // The rows themselves: one per labelled item, with its label, none twice.
    const db = new DatabaseSync(join(dataDir, 'labels.sqlite'), { readOnly: true });
    try {
      const rows = db
        .prepare('SELECT request_id, batch_index, shadow, label, model FROM labeled_examples')
        .all() as {
        request_id: string;
        batch_index: number;
        shadow: number;
        label: number;
        model: string;
      }[];
      const want = new Map<string, number>();
      for (const s of labelled) want.set(`${s.requestId}/${s.batchIndex}/0`, s.label!);
      for (const s of shadows)
        if (s.label !== undefined) want.set(`${s.requestId}/${s.batchIndex}/1`, s.label);
      const got = new Map(
        rows.map((r) => [`${r.request_id}/${r.batch_index}/${r.shadow}`, r.label]),
      );
      expect(rows.length).toBe(want.size);
      expect(got).toEqual(want);
      expect(rows.filter((r) => r.shadow === 1).every((r) => r.model === 'candidate')).toBe(true);
    } finally {
      db.close();
    }
  }, 420_000);
});

/**
 * The stream ingestor as a real process (dist/ingest-main.js, built here) against the real Kafka
 * and Redis: killed with SIGKILL in the middle of a stream and restarted, it converges to the
 * newest value of every entity; SIGTERM stops it cleanly.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import {
  createKafkaProducer,
  createTopics,
  fetchConsumerLag,
  parseBrokers,
  type MessageProducer,
} from '@scoregate/messaging';
import { spawnService } from '@scoregate/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultFeatureViewsFile, loadFeatureViews } from '../feature-views.js';
import { createFeatureStore, type OpenedFeatureStore } from '../store-factory.js';
import { differences, generateStream } from './feature-events.fixture.js';

const projectDir = fileURLToPath(new URL('../..', import.meta.url));
const brokers = parseBrokers(process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092');
const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const run = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
const topic = `scoregate.features.updated.spec-${run}-process`;
const group = `feature-ingest-spec-${run}`;
const prefix = `sg:test:ingest-process:${run}:`;
const catalog = await loadFeatureViews(defaultFeatureViewsFile);

let opened: OpenedFeatureStore;
let producer: MessageProducer;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  // The ingestor runs from its build, as in production.
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-b', 'tsconfig.lib.json'], {
    cwd: projectDir,
    stdio: 'pipe',
  });
  await createTopics(brokers, [{ name: topic, partitions: 6 }]);
  producer = await createKafkaProducer({ brokers, clientId: 'ingest-process-spec' });
  opened = await createFeatureStore(
    {
      FEATURE_STORE: 'redis',
      REDIS_URL: redisUrl,
      FEATURE_REDIS_PREFIX: prefix,
      FEATURE_REDIS_TIMEOUT_MS: 5000,
      FEATURE_SEED_FILE: undefined,
    },
    { info: () => undefined, warn: () => undefined },
    { catalog, connectWaitMs: 5000 },
  );
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await producer?.close();
  await opened?.close();
});

function startIngestor(): {
  child: ChildProcess;
  exited: Promise<number | null>;
  output: () => string;
} {
  const output: string[] = [];
  const ingestor = spawnService({
    name: 'feature-service',
    entry: 'ingest-main.js',
    port: 0,
    env: {
      KAFKA_BROKERS: brokers.join(','),
      FEATURE_INGEST_TOPIC: topic,
      FEATURE_INGEST_GROUP: group,
      FEATURE_INGEST_BATCH: '500',
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      FEATURE_STORE: 'redis',
      REDIS_URL: redisUrl,
      FEATURE_REDIS_PREFIX: prefix,
      OTEL_TRACES_EXPORTER: 'none',
    },
    onOutput: (line) => output.push(line),
  });
  const child = ingestor.process;
  children.add(child);
  // A number when it exited, null when a signal ended it.
  const exited = ingestor.exited.then((code) => {
    children.delete(child);
    return typeof code === 'number' ? code : null;
  });
  return { child, exited, output: () => output.join('\n') };
}

async function lagOf() {
  const lag = await fetchConsumerLag({ brokers }, group, [topic]);
  return {
    committed: lag.reduce(
      (n, p) => n + (BigInt(p.committedOffset) > 0n ? Number(p.committedOffset) : 0),
      0,
    ),
    lag: lag.reduce((n, p) => n + p.lag, 0),
  };
}

async function waitUntil(
  probe: () => Promise<boolean>,
  ms: number,
  what: string,
  details = () => '',
) {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline)
      throw new Error(`${what}: not reached within ${ms} ms\n${details()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the ingest-main process (real Kafka, real Redis)', () => {
  it('killed with SIGKILL mid-stream and restarted, converges to the newest value of every entity; SIGTERM then exits 0', async () => {
    const stream = generateStream({
      seed: 4242,
      entities: 1000,
      eventsPerEntity: 30,
      duplicateShare: 0.2,
      partitions: 6,
      keyPrefix: `k-${run}-`,
      nowMs: Date.now(),
    });
    const half = Math.floor(stream.records.length / 2);
    for (let i = 0; i < half; i += 5000)
      await producer.send(topic, stream.records.slice(i, Math.min(i + 5000, half)));

    const first = startIngestor();
    await waitUntil(
      async () => (await lagOf()).committed > 0,
      60_000,
      'the first ingestor committed a batch',
      first.output,
    );
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe(null);
    const atKill = await lagOf();
    // Killed in the middle: part of the stream committed, part not.
    expect(atKill.committed).toBeGreaterThan(0);
    expect(atKill.lag).toBeGreaterThan(0);

    // The rest of the stream arrives while no ingestor runs.
    for (let i = half; i < stream.records.length; i += 5000)
      await producer.send(topic, stream.records.slice(i, i + 5000));

    const second = startIngestor();
    await waitUntil(
      async () => (await lagOf()).lag === 0,
      90_000,
      'the restarted ingestor caught up',
      second.output,
    );
    expect(await differences(opened.store, stream)).toEqual({ count: 0 });

    second.child.kill('SIGTERM');
    const code = await Promise.race([
      second.exited,
      new Promise((r) => setTimeout(() => r('timeout'), 15_000)),
    ]);
    expect(code).toBe(0);
    expect(second.output()).toMatch(/SIGTERM: finishing the batch in hand/);
    expect((await lagOf()).lag).toBe(0);
  });
});

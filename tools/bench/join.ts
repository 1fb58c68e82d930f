/**
 * Join benchmark on the real Kafka (tools/infra, KAFKA_BROKERS): how fast retrain-service (the
 * built process, its own data folder) turns PredictionLogged and OutcomeObserved records into
 * labelled examples, next to the floor measured in the same run on the same records: a consumer
 * group of libs/messaging that does nothing with them (kafkajs fetch and decode, commits). Also
 * the service's RSS after start-up and at the end.
 *
 *   npm run bench:join -- [predictions, default 200000]
 *
 * Each prediction has 12 features and one outcome (in a shuffled order on the outcome topic).
 * A benchmark, not a test: compare the ratio; absolute rates depend on the machine.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, toBinary } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { SingleBar } from 'cli-progress';
import {
  OutcomeObservedSchema,
  PredictionLoggedSchema,
  RetrainService,
} from '@scoregate/contracts';
import {
  createKafkaConsumer,
  createKafkaProducer,
  createTopics,
  parseBrokers,
  type OutgoingRecord,
} from '@scoregate/messaging';
import { createRpcClient } from '@scoregate/rpc';
import { freePort, spawnService } from '@scoregate/stack';
import { seededRandom } from '@scoregate/test-servers';

const predictions = Number(process.argv[2] ?? 200_000);
const brokers = parseBrokers(process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092');
const run = Date.now().toString(36);
const predictionTopic = `bench.predictions.${run}`;
const outcomeTopic = `bench.outcomes.${run}`;
const PARTITIONS = 3;
const random = seededRandom(7);

function rssMb(pid: number): number {
  const line = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(line?.[1]) / 1024;
}

function predictionRecord(i: number): OutgoingRecord {
  const requestId = `bench-${run}-${i}`;
  return {
    key: requestId,
    value: toBinary(
      PredictionLoggedSchema,
      create(PredictionLoggedSchema, {
        requestId,
        scorer: 'truck-roll-priority',
        entityKeys: [{ entityType: 'customer', key: `c-${i % 10_000}` }],
        servedBy: { model: 'truck-roll-gbt', version: '3', alias: 'champion' },
        features: Array.from({ length: 12 }, (_, f) => ({
          ref: `customer_stats:feature_${f}`,
          value: { kind: { case: 'doubleValue' as const, value: random() * 100 } },
        })),
        outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [1n, 2n], values: [0.7, 0.3] }],
        score: random(),
        loggedAt: timestampFromMs(Date.now()),
        traceId: '0af7651916cd43dd8448eb211c80319c',
      }),
    ),
  };
}

function outcomeRecord(i: number): OutgoingRecord {
  const requestId = `bench-${run}-${i}`;
  return {
    key: requestId,
    value: toBinary(
      OutcomeObservedSchema,
      create(OutcomeObservedSchema, {
        requestId,
        label: random() < 0.3 ? 1 : 0,
        observedAt: timestampFromMs(Date.now()),
        source: 'bench',
      }),
    ),
  };
}

async function produce(): Promise<void> {
  await createTopics(brokers, [
    { name: predictionTopic, partitions: PARTITIONS },
    { name: outcomeTopic, partitions: PARTITIONS },
  ]);
  const producer = await createKafkaProducer({ brokers, clientId: 'bench-join' });
  const order = Array.from({ length: predictions }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const bar = new SingleBar({
    format: 'producing [{bar}] {value}/{total} records',
    hideCursor: false,
  });
  bar.start(2 * predictions, 0);
  for (let i = 0; i < predictions; i += 1_000) {
    const end = Math.min(predictions, i + 1_000);
    await producer.send(
      predictionTopic,
      Array.from({ length: end - i }, (_, k) => predictionRecord(i + k)),
    );
    await producer.send(outcomeTopic, order.slice(i, end).map(outcomeRecord));
    bar.update(2 * end);
  }
  bar.stop();
  await producer.close();
}

/** The floor: a group that only receives and commits the same records. */
async function rawConsume(): Promise<number> {
  const total = 2 * predictions;
  let seen = 0;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const started = performance.now();
  const consumer = await createKafkaConsumer({
    brokers,
    clientId: 'bench-join-raw',
    groupId: `bench-join-raw-${run}`,
    topics: [predictionTopic, outcomeTopic],
    handleBatch: async (batch) => {
      seen += batch.messages.length;
      if (seen >= total) done();
    },
  });
  await finished;
  const seconds = (performance.now() - started) / 1000;
  await consumer.stop();
  return total / seconds;
}

async function joinInService(): Promise<{
  rate: number;
  rssStart: number;
  rssEnd: number;
  labelled: bigint;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-join-'));
  const port = await freePort();
  const service = spawnService({
    name: 'retrain-service',
    port,
    env: {
      RETRAIN_DATA_DIR: dir,
      RETRAIN_KAFKA_BROKERS: brokers.join(','),
      RETRAIN_PREDICTION_TOPIC: predictionTopic,
      RETRAIN_OUTCOME_TOPIC: outcomeTopic,
      RETRAIN_CONSUMER_GROUP: `bench-join-${run}`,
      OTEL_TRACES_EXPORTER: 'none',
      LOG_LEVEL: 'warn',
      ...(process.env['RETRAIN_CONSUMER_BATCH']
        ? { RETRAIN_CONSUMER_BATCH: process.env['RETRAIN_CONSUMER_BATCH'] }
        : {}),
    },
  });
  const client = createRpcClient(RetrainService, { address: `127.0.0.1:${port}` });
  const status = () =>
    client
      .getJoinStatus({}, { timeoutMs: 2_000 })
      .then((r) => r.counts)
      .catch(() => undefined);
  const started = performance.now();
  let rssStart = 0;
  const bar = new SingleBar({
    format: 'joining   [{bar}] {value}/{total} records | RSS {rss} MB',
    hideCursor: false,
  });
  bar.start(2 * predictions, 0, { rss: '-' });
  try {
    for (;;) {
      const counts = await status();
      if (counts !== undefined && rssStart === 0) rssStart = rssMb(service.process.pid!);
      const seen = counts
        ? Number(
            counts.predictions +
              counts.outcomes +
              counts.duplicatePredictions +
              counts.duplicateOutcomes,
          )
        : 0;
      bar.update(seen, { rss: rssMb(service.process.pid!).toFixed(0) });
      if (seen >= 2 * predictions) {
        const rate = (2 * predictions) / ((performance.now() - started) / 1000);
        bar.stop();
        return {
          rate,
          rssStart,
          rssEnd: rssMb(service.process.pid!),
          labelled: counts!.labeledExamples,
        };
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    client.close();
    await service.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await produce();
const raw = await rawConsume();
const joined = await joinInService();
console.log(
  `\n${predictions} predictions + ${predictions} outcomes, ${PARTITIONS} partitions each\n`,
);
console.log('| what | records/s | ratio to raw |');
console.log('|---|---|---|');
console.log(`| raw consume (libs/messaging group, no work) | ${raw.toFixed(0)} | 1.00 |`);
console.log(
  `| retrain-service join (process, SQLite, commits) | ${joined.rate.toFixed(0)} | ${(joined.rate / raw).toFixed(2)} |`,
);
console.log(
  `\nlabelled examples: ${joined.labelled}; retrain-service RSS ${joined.rssStart.toFixed(0)} MB after start-up, ${joined.rssEnd.toFixed(0)} MB at the end (+${(joined.rssEnd - joined.rssStart).toFixed(0)} MB)`,
);

/**
 * The gateway's prediction log under a Kafka outage, with real processes: the five services on
 * free ports, the gateway producing to a PRIVATE broker (own ports, own state folder) that the
 * spec stops (tools/infra/kafka.sh stop) for 30 seconds while a steady open-loop Score load
 * continues, then starts again. Phases: `during` is the broker gone; `restart` is its JVM starting
 * on this machine's two cores (niced, reported apart: it is the test's own machine load, not the
 * fault); `after` is the broker answering. The shared broker is never touched.
 */
import { join } from 'node:path';
import { fromBinary } from '@bufbuild/protobuf';
import { durationFromMs } from '@bufbuild/protobuf/wkt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PredictionLoggedSchema, ScoreService } from '@scoregate/contracts';
import { createKafkaConsumer, createTopics, type MessageConsumer } from '@scoregate/messaging';
import { RpcError, createRpcClient, type RpcClient } from '@scoregate/rpc';
import { startStack, type RunningStack, type ServiceName } from '@scoregate/stack';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { percentile, repoRoot, sleep } from './chaos-fixture.js';
import { createPrivateKafka, type PrivateKafka } from '@scoregate/test-servers';

const SCORER = 'truck-roll-priority';
const RATE_PER_SECOND = 100;
/** Load before the measured phases (JIT, connection pools, the broker's first batches). */
const SETTLE_MS = 3_000;
const BEFORE_MS = 10_000;
const OUTAGE_MS = 30_000;
const AFTER_MS = 5_000;
/** How long the test consumer may take to see every event once the broker is back. */
const DELIVERY_WAIT_MS = 30_000;

type Phase = 'settle' | 'before' | 'during' | 'restart' | 'after';

interface Call {
  readonly phase: Phase;
  readonly requestId: string;
  readonly ms: number;
  readonly error?: string;
}

const runId = `kafka-stopped-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
const topic = `scoregate.predictions.chaos-${runId}`;
const demoKeys = ['c-0001', 'c-0002', 'c-0003', 'c-0004', 'c-0005'];

let kafka: PrivateKafka;
let stack: RunningStack;
let dir: string;
let client: RpcClient<typeof ScoreService>;
let consumer: MessageConsumer | undefined;
const calls: Call[] = [];
const delivered = new Set<string>();
const figures = {
  brokerStartMs: 0,
  outageMs: 0,
  /** From the broker answering again to the test consumer having seen every request id. */
  deliveryMs: Number.NaN,
  stopMs: 0,
  restartMs: 0,
};

/** CPU time (user + system, ms) the gateway process has used so far, from /proc. */
function gatewayCpuMs(): number {
  const stat = readFileSync(`/proc/${stack.services.gateway.process.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of stat (11 and 12 after the command), in 1/100 s.
  return (Number(fields[11]) + Number(fields[12])) * 10;
}
/** The gateway's CPU time when each phase began, and at the end of the load. */
const cpuAt: Partial<Record<Phase | 'end', number>> = {};

function score(requestId: string, key: string) {
  return client.score({
    scorer: SCORER,
    requestId,
    entityKeys: [{ entityType: 'customer', key }],
    budget: durationFromMs(1_000),
  });
}

/** Open-loop Score calls at RATE_PER_SECOND, each with a unique request id, while `scenario` runs. */
async function underLoad(scenario: (phase: (next: Phase) => void) => Promise<void>) {
  let phase: Phase = 'settle';
  let stopped = false;
  const inflight: Promise<void>[] = [];
  const loop = (async () => {
    const started = performance.now();
    let issued = 0;
    while (!stopped) {
      const due = Math.floor(((performance.now() - started) * RATE_PER_SECOND) / 1_000);
      for (; issued < due; issued++) {
        const requestId = `${runId}-${issued}`;
        const callPhase = phase;
        const t0 = performance.now();
        inflight.push(
          score(requestId, demoKeys[issued % demoKeys.length]!).then(
            () => void calls.push({ phase: callPhase, requestId, ms: performance.now() - t0 }),
            (e: unknown) =>
              void calls.push({
                phase: callPhase,
                requestId,
                ms: performance.now() - t0,
                error: RpcError.from(e).message,
              }),
          ),
        );
      }
      await sleep(2);
    }
  })();
  try {
    await scenario((next) => {
      cpuAt[next] = gatewayCpuMs();
      phase = next;
    });
    cpuAt.end = gatewayCpuMs();
  } finally {
    stopped = true;
    await loop;
    await Promise.all(inflight);
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'scoregate-chaos-kafka-stack-'));
  // Niced: the broker stands in for one on another machine, so its JVM start must not starve
  // the services under test of this machine's two cores.
  kafka = await createPrivateKafka({ nice: 15 });
  const ports = Object.fromEntries(
    ['gateway', 'feature-service', 'scoring-service', 'registry-service', 'retrain-service'].map(
      (s) => [s, 0],
    ),
  ) as Record<ServiceName, number>;
  // The broker and the stack start side by side; the gateway's log buffers until the broker answers.
  const settled = await Promise.allSettled([
    kafka.start().then(async (ms) => {
      await createTopics([kafka.broker], [{ name: topic, partitions: 1 }]);
      return ms;
    }),
    startStack({
      root: repoRoot,
      ports,
      env: { LOG_LEVEL: 'warn' },
      serviceEnv: {
        gateway: { GATEWAY_KAFKA_BROKERS: kafka.broker, GATEWAY_PREDICTION_TOPIC: topic },
        'registry-service': {
          REGISTRY_CATALOGUE_FILE: join(repoRoot, 'test/e2e/fixtures/e2e-catalogue.json'),
          REGISTRY_DATA_DIR: join(dir, 'registry'),
        },
        'scoring-service': { SCORING_CACHE_DIR: join(dir, 'scoring-cache') },
        'retrain-service': { RETRAIN_DATA_DIR: join(dir, 'retrain') },
      },
      readyTimeoutMs: 90_000,
    }),
  ]);
  if (settled[1].status === 'fulfilled') stack = settled[1].value;
  for (const s of settled) if (s.status === 'rejected') throw s.reason;
  figures.brokerStartMs = (settled[0] as PromiseFulfilledResult<number>).value;
  client = createRpcClient(ScoreService, {
    address: stack.address('gateway'),
    defaultTimeoutMs: 5_000,
  });
  for (let i = 0; i < 200; i++) await score(`${runId}-warm-${i}`, demoKeys[i % demoKeys.length]!);

  let returnedAt = 0;
  await underLoad(async (phase) => {
    await sleep(SETTLE_MS);
    phase('before');
    await sleep(BEFORE_MS);
    phase('during');
    const outageStarted = Date.now();
    figures.stopMs = await kafka.stop();
    // 30 s from the stop command (the broker refuses connections soon after SIGTERM).
    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - outageStarted)));
    phase('restart');
    figures.restartMs = await kafka.start();
    returnedAt = Date.now();
    figures.outageMs = returnedAt - outageStarted;
    phase('after');
    await sleep(AFTER_MS);
  });

  // A consumer of the test counts the PredictionLogged events of this run by request id.
  const expected = new Set(calls.filter((c) => c.error === undefined).map((c) => c.requestId));
  consumer = await createKafkaConsumer({
    brokers: [kafka.broker],
    groupId: `count-${runId}`,
    topics: [topic],
    handleBatch: async ({ messages }) => {
      for (const m of messages) {
        const id = fromBinary(PredictionLoggedSchema, m.value).requestId;
        if (!id.startsWith(`${runId}-`) || id.startsWith(`${runId}-warm-`)) continue;
        delivered.add(id);
      }
      if (Number.isNaN(figures.deliveryMs) && [...expected].every((id) => delivered.has(id)))
        figures.deliveryMs = Date.now() - returnedAt;
    },
  });
  const deadline = Date.now() + DELIVERY_WAIT_MS;
  while (Number.isNaN(figures.deliveryMs) && Date.now() < deadline) await sleep(100);
}, 240_000);

afterAll(async () => {
  await consumer?.stop().catch(() => undefined);
  client?.close();
  await stack?.stop();
  await kafka?.dispose();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe(`private Kafka broker stopped for 30 s, then restarted, under ${RATE_PER_SECOND} Score calls/s (real processes)`, () => {
  const of = (phase: Phase) => calls.filter((c) => c.phase === phase);

  it('0 failed Score calls, and p99 while the broker is away stays within 1.5× of the p99 before', () => {
    const p99Before = percentile(
      of('before').map((c) => c.ms),
      0.99,
    );
    const p99During = percentile(
      of('during').map((c) => c.ms),
      0.99,
    );
    const summary = {
      ...figures,
      calls: calls.length,
      failed: calls.filter((c) => c.error !== undefined).length,
      byPhase: Object.fromEntries(
        (['settle', 'before', 'during', 'restart', 'after'] as const).map((p) => [
          p,
          {
            calls: of(p).length,
            p50: +percentile(
              of(p).map((c) => c.ms),
              0.5,
            ).toFixed(2),
            p99: +percentile(
              of(p).map((c) => c.ms),
              0.99,
            ).toFixed(2),
          },
        ]),
      ),
      /** Gateway CPU ms per Score call in each phase: does the outage itself cost the gateway work? */
      cpuMsPerCall: {
        before: +((cpuAt.during! - cpuAt.before!) / of('before').length).toFixed(3),
        during: +((cpuAt.restart! - cpuAt.during!) / of('during').length).toFixed(3),
        restart: +((cpuAt.after! - cpuAt.restart!) / of('restart').length).toFixed(3),
        after: +((cpuAt.end! - cpuAt.after!) / of('after').length).toFixed(3),
      },
      p99Ratio: +(p99During / p99Before).toFixed(2),
      delivered: delivered.size,
    };
    process.stdout.write(`kafka-stopped figures ${JSON.stringify(summary)}\n`);
    expect(calls.filter((c) => c.error !== undefined).slice(0, 5)).toEqual([]);
    expect(figures.outageMs).toBeGreaterThanOrEqual(OUTAGE_MS);
    expect(of('during').length).toBeGreaterThan(((RATE_PER_SECOND * OUTAGE_MS) / 1_000) * 0.8);
    // 1.5× the p99 before, with 25 ms of allowance: at p99s of 20–60 ms on a shared 2-core
    // machine, one scheduler stall moves the ratio past 1.5 (measured 0.57–1.48 when quiet). A
    // Score that waited on the broker would take the client's connection time-outs (≥ 1 s) or fail.
    expect(p99During).toBeLessThanOrEqual(Math.max(1.5 * p99Before, p99Before + 25));
    // The noise-free sign: the absent broker costs the gateway no extra work per call.
    expect(summary.cpuMsPerCall.during).toBeLessThanOrEqual(1.5 * summary.cpuMsPerCall.before);
  });

  it('every request id scored during the run (before, during and after the outage) is delivered to Kafka', () => {
    // Refused calls (if any; the other test fails on them) have no answer to log.
    const sent = calls.filter((c) => c.error === undefined).map((c) => c.requestId);
    const missing = sent.filter((id) => !delivered.has(id));
    expect(missing.length, `missing e.g. ${missing.slice(0, 3).join(', ')}`).toBe(0);
    expect(delivered.size).toBe(sent.length);
    expect(figures.deliveryMs).toBeLessThan(DELIVERY_WAIT_MS + AFTER_MS);
  });
});

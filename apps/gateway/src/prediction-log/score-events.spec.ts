/**
 * What the gateway writes to its prediction log for Score and ScoreBatch answers, over real gRPC:
 * a gateway (with or without authentication) in front of feature-service and scoring-service
 * stand-ins, its prediction log on a file or on the shared Kafka broker.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { context } from '@opentelemetry/api';
import { create, fromBinary, fromJsonString } from '@bufbuild/protobuf';
import { durationFromMs } from '@bufbuild/protobuf/wkt';
import {
  DegradationReason,
  FeatureInputSchema,
  PredictionLoggedSchema,
  type ScoreService,
  type PredictionLogged,
} from '@scoregate/contracts';
import { createKafkaConsumer, createTopics, type ConsumedMessage } from '@scoregate/messaging';
import type { RpcClient, ServerInterceptor } from '@scoregate/rpc';
import { createLogger, type Logger } from '@scoregate/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator, createAuthInterceptor, parseAuthFile } from '../auth/index.js';
import { createChainResilience } from '../chain-resilience.js';
import type { ChainModel, Route } from '../route-resolver.js';
import { createShadowRunner, type ShadowRunner } from '../routes/shadow.js';
import { logShadowResult } from '../shadow-log.js';
import { ScoreTestBed, testScorer } from '../testing/score-test-bed.test.js';
import { createPredictionLog, type PredictionLog, type PredictionSink } from './prediction-log.js';
import {
  contextWithTrace,
  installTelemetryForTests,
  uniqueSuffix,
  waitUntil,
} from './spec-support.test.js';

installTelemetryForTests();
const silent = createLogger({ service: 'gateway-events-spec', level: 'silent' });
const run = uniqueSuffix();
/** Per entity key, the feature refs the feature stand-in reports MISSING. */
const missingFor: Record<string, string[]> = {
  'c-no-b': ['v:b'],
  'c-no-a': ['v:a', 'v:b', 'v:c'],
  'c-no-c': ['v:c'],
  'c-b-in-request': ['v:b'],
};
/** The version each model's stand-in reports having answered with. */
const versions: Record<string, string> = { primary: '7', fallback: '3', challenger: '9' };
const bed = new ScoreTestBed({ logger: silent, versions });
const logs: PredictionLog[] = [];
let dir = '';

const chainModel = (model: string, inputs: { ref: string; default?: number }[]): ChainModel => ({
  model,
  alias: { primary: 'champion', fallback: 'fallback' }[model] ?? 'challenger',
  version: versions[model]!,
  inputName: 'features',
  contract: inputs.map((input) =>
    create(FeatureInputSchema, {
      ref: input.ref,
      required: input.default === undefined,
      ...(input.default === undefined
        ? {}
        : { defaultValue: { kind: { case: 'doubleValue', value: input.default } } }),
    }),
  ),
  outputs: [],
});
/** The primary needs a and b (c is optional, default 0); the fallback needs only a. */
const route: Route = {
  scorer: testScorer,
  chain: [
    chainModel('primary', [{ ref: 'v:a' }, { ref: 'v:b' }, { ref: 'v:c', default: 0 }]),
    chainModel('fallback', [{ ref: 'v:a' }]),
  ],
  budgetMs: undefined,
};

/** A gateway on real gRPC with the stand-ins behind it and the given prediction log. */
async function startGateway(options: {
  sink: PredictionSink;
  interceptors?: ServerInterceptor[];
  logger?: Logger;
  headers?: Record<string, string>;
  /** Mirror every request to a shadow model that needs `v:a`. */
  shadow?: boolean;
}): Promise<{ client: RpcClient<typeof ScoreService>; log: PredictionLog; shadow?: ShadowRunner }> {
  const log = createPredictionLog(
    { sink: options.sink, bufferSize: 10_000, batchSize: 100, lingerMs: 5 },
    silent,
  );
  logs.push(log);
  let shadow: ShadowRunner | undefined;
  const client = await bed.gateway(
    (scoring) => {
      shadow = options.shadow
        ? createShadowRunner({
            scoring,
            logger: silent,
            maxInFlight: 10,
            onResult: logShadowResult(log),
          })
        : undefined;
      return {
        routes: {
          resolve: () =>
            Promise.resolve(
              shadow
                ? {
                    ...route,
                    shadow: { model: chainModel('challenger', [{ ref: 'v:a' }]), share: 1 },
                  }
                : route,
            ),
        },
        predictionLog: log,
        ...(shadow ? { shadow } : {}),
        resilience: createChainResilience(),
        logger: options.logger ?? silent,
        defaultBudgetMs: 1_000,
        responseReserveMs: 2,
      };
    },
    {
      ...(options.interceptors ? { interceptors: options.interceptors } : {}),
      ...(options.headers ? { headers: options.headers } : {}),
    },
  );
  return { client, log, ...(shadow ? { shadow } : {}) };
}

async function eventsInFile(path: string): Promise<PredictionLogged[]> {
  const text = (await readFile(path, 'utf8')).trimEnd();
  return text === '' ? [] : text.split('\n').map((l) => fromJsonString(PredictionLoggedSchema, l));
}

/** The event's features as [ref, value, missing, stale, defaulted]. */
const flags = (event: PredictionLogged | undefined) =>
  event?.features.map((f) => [f.ref, f.value?.kind.value, f.missing, f.stale, f.defaulted]);

const batchOf = (keys: string[], id: string) => ({
  scorer: 'test-scorer',
  requestId: id,
  budget: durationFromMs(2_000),
  items: keys.map((key) => ({
    entityKeys: [{ entityType: 'customer', key }],
    ...(key === 'c-b-in-request'
      ? { requestFeatures: { b: { kind: { case: 'doubleValue' as const, value: 5 } } } }
      : {}),
  })),
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gateway-events-'));
  for (const [key, refs] of Object.entries(missingFor)) bed.missingFor.set(key, refs);
  bed.featuresDownFor.add('c-store-down');
  await bed.start();
});

afterAll(async () => {
  await Promise.all(logs.map((log) => log.close(2_000)));
  await bed.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('ScoreBatch answers in the prediction log', () => {
  it('writes exactly one event per item, each with its entity keys, model version and missing flags', async () => {
    const path = join(dir, 'batch.jsonl');
    const { client, log } = await startGateway({ sink: { kind: 'file', path } });
    const keys = ['c-ok', 'c-no-b', 'c-no-a', 'c-no-c', 'c-b-in-request', 'c-ok-2'];
    const reply = await client.scoreBatch(batchOf(keys, `batch-${run}`));
    await log.close();

    const events = await eventsInFile(path);
    expect(events).toHaveLength(keys.length);
    expect(log.stats()).toMatchObject({ recorded: 6, delivered: 6, dropped: 0 });
    expect(events.map((e) => [e.requestId, e.batchIndex, e.entityKeys[0]?.key])).toEqual(
      keys.map((key, i) => [`batch-${run}`, i, key]),
    );
    expect(events.map((e) => [e.servedBy?.model, e.servedBy?.version])).toEqual([
      ['primary', '7'],
      ['fallback', '3'],
      ['', ''],
      ['primary', '7'],
      ['primary', '7'],
      ['primary', '7'],
    ]);
    // Each event says what its item's answer said.
    reply.results.forEach((result, i) => {
      expect(events[i]).toMatchObject({
        scorer: 'test-scorer',
        score: result.score,
        degraded: result.degraded,
        reasons: result.reasons,
        traceId: reply.traceId,
        shadow: false,
        tenant: '',
      });
      expect(events[i]!.outputs).toEqual(result.outputs);
      expect(events[i]!.timings).toEqual(reply.timings);
    });
    expect(events[1]).toMatchObject({
      degraded: true,
      reasons: [DegradationReason.FEATURES_MISSING],
    });
    expect(events[2]).toMatchObject({ degraded: true, score: 0.3, features: [], outputs: [] });
    expect(events[2]!.reasons).toContain(DegradationReason.DEFAULT_ANSWER);
    expect(events[0]!.outputs[0]?.values).toEqual([0.25, 0.75]);
    expect(flags(events[0])).toEqual([
      ['v:a', 1, false, false, false],
      ['v:b', 1, false, false, false],
      ['v:c', 1, false, false, false],
    ]);
    // The features the fallback used: only its own contract.
    expect(flags(events[1])).toEqual([['v:a', 1, false, false, false]]);
    expect(flags(events[3])).toEqual([
      ['v:a', 1, false, false, false],
      ['v:b', 1, false, false, false],
      ['v:c', 0, true, false, true],
    ]);
    // A request-time value stands in for the missing stored one.
    expect(flags(events[4])).toEqual([
      ['v:a', 1, false, false, false],
      ['v:b', 5, false, false, false],
      ['v:c', 1, false, false, false],
    ]);
  });

  it('a batch without a request id logs the id the gateway gave it, with item indexes', async () => {
    const path = join(dir, 'generated-id.jsonl');
    const { client, log } = await startGateway({ sink: { kind: 'file', path } });
    const reply = await client.scoreBatch(batchOf(['c-ok', 'c-no-b', 'c-ok-2'], ''));
    await log.close();
    const events = await eventsInFile(path);
    expect(reply.requestId).not.toBe('');
    expect(events.map((e) => [e.requestId, e.batchIndex])).toEqual([
      [reply.requestId, 0],
      [reply.requestId, 1],
      [reply.requestId, 2],
    ]);
  });

  it('on Kafka: one record per item keyed by the batch request id, with the call trace context and event headers', async () => {
    const brokers = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
    const topic = `gateway-batch-events-${run}`;
    await createTopics(brokers, [{ name: topic, partitions: 1 }]);
    const traceId = randomBytes(16).toString('hex');
    // What the OpenTelemetry SDK's gRPC instrumentation does: the call runs in the caller's trace.
    const traced: ServerInterceptor = (_call, next) =>
      context.with(contextWithTrace(traceId), next);
    const { client, log } = await startGateway({
      sink: { kind: 'kafka', brokers, topic },
      interceptors: [traced],
    });
    const keys = Array.from({ length: 40 }, (_, i) => (i % 4 === 1 ? 'c-no-b' : `c-${i}`));
    const reply = await client.scoreBatch(batchOf(keys, `kafka-batch-${run}`));
    expect(reply.traceId).toBe(traceId);

    const seen: ConsumedMessage[] = [];
    const consumer = await createKafkaConsumer({
      brokers,
      groupId: `gateway-batch-events-${run}`,
      topics: [topic],
      handleMessage: async (message) => {
        seen.push(message);
      },
    });
    try {
      await waitUntil(() => seen.length >= keys.length, 30_000, `${keys.length} events consumed`);
      // Exactly N: nothing more arrives after them.
      await new Promise((resolve) => setTimeout(resolve, 500));
    } finally {
      await consumer.stop();
    }
    expect(seen).toHaveLength(keys.length);
    const events = seen.map((m) => fromBinary(PredictionLoggedSchema, m.value));
    expect(events.map((e) => [e.batchIndex, e.entityKeys[0]?.key, e.servedBy?.model])).toEqual(
      keys.map((key, i) => [i, key, key === 'c-no-b' ? 'fallback' : 'primary']),
    );
    for (const message of seen) {
      expect(Buffer.from(message.key!).toString()).toBe(`kafka-batch-${run}`);
      expect(message.headers['traceparent']).toContain(traceId);
      expect(message.headers['type']).toBe('scoregate.events.v1.PredictionLogged');
      expect(message.headers['content-type']).toBe('application/x-protobuf');
    }
    expect(events.every((e) => e.traceId === traceId)).toBe(true);
    expect(log.stats()).toMatchObject({ recorded: 40, delivered: 40, dropped: 0 });
  });
});

describe('the authenticated tenant', () => {
  const key = `acme-${randomBytes(16).toString('hex')}`;
  const settings = () =>
    parseAuthFile(
      {
        tenants: {
          acme: {
            scorers: ['test-*'],
            apiKeys: [{ id: 'ci', sha256: createHash('sha256').update(key).digest('hex') }],
          },
        },
      },
      dir,
    );

  it('is in every event of an authenticated Score and ScoreBatch call, and in the call log lines', async () => {
    const path = join(dir, 'tenant.jsonl');
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({
      service: 'gateway-events-spec',
      level: 'warn',
      destination: { write: (line: string) => void lines.push(JSON.parse(line)) },
    });
    const { client, log } = await startGateway({
      sink: { kind: 'file', path },
      interceptors: [
        createAuthInterceptor({ authenticator: createAuthenticator(settings()), logger: silent }),
      ],
      logger,
      headers: { 'x-api-key': key },
    });
    await client.score({
      scorer: 'test-scorer',
      requestId: `score-${run}`,
      entityKeys: [{ entityType: 'customer', key: 'c-ok' }],
    });
    await client.scoreBatch(batchOf(['c-ok', 'c-no-b'], `tenant-batch-${run}`));
    // The feature store failing makes the gateway write a warning about this call.
    const degraded = await client.score({
      scorer: 'test-scorer',
      requestId: `store-down-${run}`,
      entityKeys: [{ entityType: 'customer', key: 'c-store-down' }],
    });
    expect(degraded.reasons).toContain(DegradationReason.FEATURES_UNAVAILABLE);
    await log.close();

    const events = await eventsInFile(path);
    expect(events.map((e) => [e.requestId, e.batchIndex, e.tenant])).toEqual([
      [`score-${run}`, 0, 'acme'],
      [`tenant-batch-${run}`, 0, 'acme'],
      [`tenant-batch-${run}`, 1, 'acme'],
      [`store-down-${run}`, 0, 'acme'],
    ]);
    const warning = lines.find((l) => String(l['msg']).startsWith('feature-service failed'));
    expect(warning).toMatchObject({
      tenant: 'acme',
      requestId: `store-down-${run}`,
      scorer: 'test-scorer',
    });
  });

  it('is in the event of the shadow answer of an authenticated call', async () => {
    const path = join(dir, 'tenant-shadow.jsonl');
    const { client, log, shadow } = await startGateway({
      sink: { kind: 'file', path },
      interceptors: [
        createAuthInterceptor({ authenticator: createAuthenticator(settings()), logger: silent }),
      ],
      headers: { 'x-api-key': key },
      shadow: true,
    });
    await client.score({
      scorer: 'test-scorer',
      requestId: `shadowed-${run}`,
      entityKeys: [{ entityType: 'customer', key: 'c-ok' }],
    });
    await waitUntil(() => shadow!.stats().succeeded === 1, 5_000, 'the shadow answered');
    await log.close();
    const events = await eventsInFile(path);
    expect(
      events.map((e) => [e.requestId, e.shadow, e.servedBy?.model, e.servedBy?.version, e.tenant]),
    ).toEqual([
      [`shadowed-${run}`, false, 'primary', '7', 'acme'],
      [`shadowed-${run}`, true, 'challenger', '9', 'acme'],
    ]);
  });

  it('is empty without authentication, and absent from the log lines', async () => {
    const path = join(dir, 'no-auth.jsonl');
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({
      service: 'gateway-events-spec',
      level: 'warn',
      destination: { write: (line: string) => void lines.push(JSON.parse(line)) },
    });
    const { client, log } = await startGateway({ sink: { kind: 'file', path }, logger });
    await client.score({
      scorer: 'test-scorer',
      requestId: `anonymous-${run}`,
      entityKeys: [{ entityType: 'customer', key: 'c-store-down' }],
    });
    await log.close();
    const events = await eventsInFile(path);
    expect(events.map((e) => [e.requestId, e.tenant])).toEqual([[`anonymous-${run}`, '']]);
    const warning = lines.find((l) => String(l['msg']).startsWith('feature-service failed'));
    expect(warning).toMatchObject({ requestId: `anonymous-${run}`, scorer: 'test-scorer' });
    expect(warning).not.toHaveProperty('tenant');
  });
});

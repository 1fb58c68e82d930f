import { create } from '@bufbuild/protobuf';
import { durationFromMs, durationMs } from '@bufbuild/protobuf/wkt';
import {
  DegradationReason,
  FeatureInputSchema,
  FeatureService,
  FeatureStatus,
  GRPCInferenceService,
  ScoreService,
  ScorerSchema,
} from '@scoregate/contracts';
import { encodeRaw } from '@scoregate/inference-protocol';
import {
  Code,
  createRpcClient,
  createRpcServer,
  RpcError,
  type RpcClient,
  type RpcServer,
} from '@scoregate/rpc';
import { createLogger } from '@scoregate/telemetry';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Admission } from './admission.js';
import { createChainResilience } from './chain-resilience.js';
import type { ChainModel, Route } from './route-resolver.js';
import { createScoreHandlers } from './score-handlers.js';

// Stand-ins over real gRPC for feature-service and scoring-service (the thing under test is the
// gateway's routing, not the models): per model, how long ModelInfer holds and whether it fails.
const logger = createLogger({ service: 'gateway-chain-test', level: 'error' });
const unimplemented = () => Promise.reject(new RpcError(Code.UNIMPLEMENTED, 'not in this test'));
const behaviour = new Map<string, { holdMs?: number; fail?: boolean }>();
const received = new Map<string, number[]>();
const rowsSeen = new Map<string, number[]>();
/** Feature refs the feature stand-in reports MISSING for an entity key. */
const missingFor = new Map<string, string[]>();
const servers: RpcServer[] = [];
const clients: { close(): void }[] = [];

async function standIns(): Promise<{ features: string; scoring: string }> {
  const scoringServer = createRpcServer({ name: 'scoring-stand-in', logger });
  scoringServer.register(GRPCInferenceService, {
    serverLive: unimplemented,
    serverReady: unimplemented,
    modelReady: unimplemented,
    serverMetadata: unimplemented,
    modelMetadata: unimplemented,
    async modelInfer(request, context) {
      received.set(request.modelName, [...(received.get(request.modelName) ?? []), Date.now()]);
      const rows = Number(request.inputs[0]?.shape[0] ?? 1n);
      rowsSeen.set(request.modelName, [...(rowsSeen.get(request.modelName) ?? []), rows]);
      const b = behaviour.get(request.modelName) ?? {};
      if (b.holdMs)
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, b.holdMs);
          context.signal.addEventListener('abort', () => {
            clearTimeout(timer);
            resolve();
          });
        });
      if (b.fail) throw new RpcError(Code.UNAVAILABLE, 'scoring stand-in is failing');
      const p = request.modelName === 'primary' ? 0.75 : 0.6;
      const data = new Float32Array(rows * 2);
      for (let r = 0; r < rows; r++) data.set([1 - p, p], r * 2);
      return {
        modelName: request.modelName,
        modelVersion: '1',
        id: request.id,
        outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [BigInt(rows), 2n] }],
        rawOutputContents: [encodeRaw({ datatype: 'FP32', shape: [rows, 2], data })],
      };
    },
  });
  const featureServer = createRpcServer({ name: 'features-stand-in', logger });
  featureServer.register(FeatureService, {
    writeFeatures: unimplemented,
    listFeatureViews: unimplemented,
    getFeatures(request) {
      return {
        results: request.entities.map((entity) => ({
          entity,
          values: request.featureRefs.map((ref) =>
            (missingFor.get(entity.key) ?? []).includes(ref)
              ? { ref, status: FeatureStatus.MISSING }
              : {
                  ref,
                  status: FeatureStatus.OK,
                  value: { kind: { case: 'doubleValue', value: 1 } },
                },
          ),
        })),
      };
    },
  });
  servers.push(scoringServer, featureServer);
  return {
    scoring: `127.0.0.1:${await scoringServer.listen('127.0.0.1:0')}`,
    features: `127.0.0.1:${await featureServer.listen('127.0.0.1:0')}`,
  };
}

const input = (ref: string) => create(FeatureInputSchema, { ref, required: true });
const chainModel = (model: string, refs: string[]): ChainModel => ({
  model,
  alias: 'champion',
  version: '1',
  inputName: 'features',
  contract: refs.map(input),
  outputs: [],
});
const route: Route = {
  scorer: create(ScorerSchema, {
    name: 'test-scorer',
    entityType: 'customer',
    defaultAnswer: { score: 0.3 },
    scoreOutput: 'probabilities',
    scoreIndex: 1,
  }),
  // The primary needs two features, the fallback one.
  chain: [chainModel('primary', ['v:a', 'v:b']), chainModel('fallback', ['v:a'])],
  budgetMs: undefined,
};

let client: RpcClient<typeof ScoreService>;
let tightClient: RpcClient<typeof ScoreService>;
/** A gateway of its own (fresh circuits and latencies), untouched by the fault tests. */
let batchClient: RpcClient<typeof ScoreService>;

/** A gateway on real gRPC with the stand-ins behind it. */
async function startGateway(
  addresses: { features: string; scoring: string },
  admission?: Admission,
) {
  const features = createRpcClient(FeatureService, { address: addresses.features });
  const scoring = createRpcClient(GRPCInferenceService, { address: addresses.scoring });
  clients.push(features, scoring);
  const server = createRpcServer({ name: 'gateway-under-test', logger });
  server.register(
    ScoreService,
    createScoreHandlers({
      routes: { resolve: () => Promise.resolve(route) },
      features,
      scoring,
      resilience: createChainResilience(),
      logger,
      defaultBudgetMs: 100,
      responseReserveMs: 2,
      ...(admission ? { admission } : {}),
    }),
  );
  servers.push(server);
  const scoreClient = createRpcClient(ScoreService, {
    address: `127.0.0.1:${await server.listen('127.0.0.1:0')}`,
    defaultTimeoutMs: 5_000,
  });
  clients.push(scoreClient);
  return scoreClient;
}

beforeAll(async () => {
  const addresses = await standIns();
  client = await startGateway(addresses);
  batchClient = await startGateway(addresses);
  tightClient = await startGateway(
    addresses,
    new Admission({
      minimumMs: 2,
      defaultBudgetMs: 100,
      limit: { initialLimit: 2, minLimit: 2, maxLimit: 2 },
    }),
  );
});

afterAll(async () => {
  clients.forEach((c) => c.close());
  await Promise.all(servers.map((s) => s.shutdown({ graceMs: 100 })));
});

beforeEach(() => {
  behaviour.clear();
  received.clear();
  rowsSeen.clear();
  missingFor.clear();
});

const score = (c = client, key = 'k1', budgetMs = 100) =>
  c.score({
    scorer: 'test-scorer',
    entityKeys: [{ entityType: 'customer', key }],
    budget: durationFromMs(budgetMs),
  });

describe('fallback chain', () => {
  it('answers from the primary when healthy, hedging only the slowest few calls (no racing from the start)', async () => {
    // A primary that steadily takes 10 ms: its p95 is about 10 ms.
    behaviour.set('primary', { holdMs: 10 });
    for (let i = 0; i < 30; i++) await score();
    received.clear();
    let fromPrimary = 0;
    for (let i = 0; i < 100; i++) {
      const reply = await score();
      if (reply.servedBy?.model === 'primary') {
        fromPrimary++;
        expect(reply).toMatchObject({ score: 0.75, degraded: false, reasons: [] });
      }
    }
    // A hedge starts only after the primary's p95: about 5% of calls, never most of them.
    expect(received.get('fallback')?.length ?? 0).toBeLessThanOrEqual(20);
    expect(fromPrimary).toBeGreaterThanOrEqual(90);
  });

  it('hedges a hung primary to the fallback after its observed p95, well inside the budget', async () => {
    for (let i = 0; i < 30; i++) await score(); // p95 of the primary: a few ms
    received.clear();
    behaviour.set('primary', { holdMs: 5_000 });
    const t0 = performance.now();
    const reply = await score(client, 'k1', 200);
    const ms = performance.now() - t0;
    expect(reply.servedBy?.model).toBe('fallback');
    expect(reply.score).toBeCloseTo(0.6, 5);
    expect(reply.degraded).toBe(true);
    expect(reply.reasons).toContain(DegradationReason.PRIMARY_TIMEOUT);
    // Far sooner than the primary's deadline (~200 ms): the hedge started after its p95.
    expect(ms).toBeLessThan(100);
    // The fallback was called after the primary, not at the same time.
    expect(received.get('fallback')![0]! - received.get('primary')!.at(-1)!).toBeGreaterThanOrEqual(
      0,
    );
  });

  it('opens the circuit of a failing model: later calls skip it (CIRCUIT_OPEN) without calling it', async () => {
    behaviour.set('primary', { fail: true });
    // Opens once failures pass 50% of the calls in its 10 s window (earlier tests' successes too).
    let opened = false;
    for (let i = 0; i < 300 && !opened; i++) {
      const reply = await score();
      expect(reply.servedBy?.model).toBe('fallback');
      opened = reply.reasons.includes(DegradationReason.CIRCUIT_OPEN);
    }
    expect(opened).toBe(true);
    const calls = received.get('primary')?.length ?? 0;
    for (let i = 0; i < 10; i++) {
      const reply = await score();
      expect(reply.reasons).toContain(DegradationReason.CIRCUIT_OPEN);
      expect(reply.servedBy?.model).toBe('fallback');
    }
    expect(received.get('primary')?.length ?? 0).toBe(calls);
    behaviour.clear();
    // Half-open after the reset time: one probe succeeds and the primary is back.
    await new Promise((r) => setTimeout(r, 1_100));
    expect((await score()).servedBy?.model).toBe('primary');
  });

  it('skips a model whose required feature is missing and names the feature', async () => {
    missingFor.set('k-missing', ['v:b']);
    const reply = await score(client, 'k-missing');
    expect(reply.servedBy?.model).toBe('fallback');
    expect(reply.reasons).toContain(DegradationReason.FEATURES_MISSING);
    expect(reply.missingFeatures).toEqual(['v:b']);
    expect(received.get('primary')).toBeUndefined();
  });

  it('gives the default answer inside the budget when every model is down', async () => {
    behaviour.set('primary', { holdMs: 5_000 });
    behaviour.set('fallback', { holdMs: 5_000 });
    const t0 = performance.now();
    const reply = await score(client, 'k1', 60);
    const ms = performance.now() - t0;
    expect(reply).toMatchObject({ score: 0.3, degraded: true });
    expect(reply.reasons).toContain(DegradationReason.DEFAULT_ANSWER);
    expect(durationMs(reply.timings!.budget!)).toBe(60);
    // The chain gives up 2 ms before the end; timers on a busy machine may fire a little late.
    expect(durationMs(reply.timings!.margin!)).toBeGreaterThan(-5);
    expect(ms).toBeLessThan(60 + 25);
  });
});

describe('ScoreBatch', () => {
  it('one ModelInfer per chosen model for all rows; per-item fallback; results in item order', async () => {
    missingFor.set('k2', ['v:b']);
    const reply = await batchClient.scoreBatch({
      scorer: 'test-scorer',
      items: ['k1', 'k2', 'k3'].map((key) => ({ entityKeys: [{ entityType: 'customer', key }] })),
      budget: durationFromMs(200),
    });
    expect(reply.results.map((r) => r.servedBy?.model)).toEqual(['primary', 'fallback', 'primary']);
    expect(reply.results[1]).toMatchObject({ degraded: true, missingFeatures: ['v:b'] });
    expect(reply.results[0]).toMatchObject({ degraded: false, score: 0.75 });
    expect(rowsSeen.get('primary')).toEqual([2]);
    expect(rowsSeen.get('fallback')).toEqual([1]);
    expect(durationMs(reply.timings!.budget!)).toBe(200);
  });
});

describe('admission control', () => {
  it('refuses at once with RESOURCE_EXHAUSTED above the concurrency limit, saying why', async () => {
    behaviour.set('primary', { holdMs: 300 });
    behaviour.set('fallback', { holdMs: 300 });
    const slow = [score(tightClient, 'k1', 250), score(tightClient, 'k1', 250)];
    await new Promise((r) => setTimeout(r, 30));
    const t0 = performance.now();
    const error = await score(tightClient).catch((e: unknown) => RpcError.from(e));
    expect(performance.now() - t0).toBeLessThan(50);
    expect(error).toBeInstanceOf(RpcError);
    expect((error as RpcError).code).toBe(Code.RESOURCE_EXHAUSTED);
    expect((error as RpcError).message).toMatch(/concurrency limit/);
    await Promise.all(slow);
  });

  it('refuses a request whose budget is smaller than the least the gateway needs', async () => {
    const error = await score(tightClient, 'k1', 1).catch((e: unknown) => RpcError.from(e));
    expect((error as RpcError).code).toBe(Code.RESOURCE_EXHAUSTED);
    expect((error as RpcError).message).toMatch(/budget/);
  });
});

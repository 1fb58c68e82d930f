import { durationFromMs, durationMs } from '@bufbuild/protobuf/wkt';
import { DegradationReason, type ScoreService } from '@scoregate/contracts';
import type { RpcClient } from '@scoregate/rpc';
import { createLogger } from '@scoregate/telemetry';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createChainResilience, modelKey, type ChainResilience } from './chain-resilience.js';
import type { ChainModel, Route } from './route-resolver.js';
import { singleScoringBackend } from './scoring-backends.js';
import { ScoreTestBed, chainModel, testScorer } from './testing/score-test-bed.test.js';

const logger = createLogger({ service: 'gateway-chain-test', level: 'error' });
const bed = new ScoreTestBed({ logger });

const [primary, fallback] = [
  chainModel('primary', ['v:a', 'v:b']),
  chainModel('fallback', ['v:a']),
];
const route: Route = {
  scorer: testScorer,
  // The primary needs two features, the fallback one.
  chain: [primary, fallback],
  budgetMs: undefined,
};

const gatewayDependencies = (resilience: ChainResilience) => ({
  routes: { resolve: () => Promise.resolve(route) },
  resilience,
  logger,
  defaultBudgetMs: 100,
  responseReserveMs: 2,
});

/** A gateway of its own (fresh circuits and latencies) in front of the bed's stand-ins. */
function startGateway() {
  return bed.gateway(() => gatewayDependencies(createChainResilience()));
}

/**
 * A gateway whose latency record says `model` takes about `ms`: its observed p95 is known (20
 * answers in the window) before any call.
 */
async function gatewayWhere(model: ChainModel, ms: number) {
  const resilience = createChainResilience();
  let key = '';
  const client = await bed.gateway((scoring) => {
    key = modelKey(model, singleScoringBackend(scoring).forModel(model.model));
    return gatewayDependencies(resilience);
  });
  for (let i = 0; i < 20; i++) resilience.latency.record(key, ms);
  return client;
}

let client: RpcClient<typeof ScoreService>;
/** A gateway of its own (fresh circuits and latencies), untouched by the fault tests. */
let batchClient: RpcClient<typeof ScoreService>;

beforeAll(async () => {
  await bed.start();
  client = await startGateway();
  batchClient = await startGateway();
});

afterAll(() => bed.stop());

beforeEach(() => bed.reset());

const score = (c = client, key = 'k1', budgetMs = 100) =>
  c.score({
    scorer: 'test-scorer',
    entityKeys: [{ entityType: 'customer', key }],
    budget: durationFromMs(budgetMs),
  });

const scoreBatch = (c: RpcClient<typeof ScoreService>, keys: string[], budgetMs = 200) =>
  c.scoreBatch({
    scorer: 'test-scorer',
    items: keys.map((key) => ({ entityKeys: [{ entityType: 'customer', key }] })),
    budget: durationFromMs(budgetMs),
  });

describe('fallback chain', () => {
  it('answers from the primary when healthy, hedging only the slowest few calls (no racing from the start)', async () => {
    // A primary that steadily takes 10 ms: its p95 is about 10 ms.
    bed.behaviour.set('primary', { holdMs: 10 });
    for (let i = 0; i < 30; i++) await score();
    bed.received.clear();
    let fromPrimary = 0;
    for (let i = 0; i < 100; i++) {
      const reply = await score();
      if (reply.servedBy?.model === 'primary') {
        fromPrimary++;
        expect(reply).toMatchObject({ score: 0.75, degraded: false, reasons: [] });
      }
    }
    // A hedge starts only after the primary's p95: about 5% of calls, never most of them.
    expect(bed.received.get('fallback')?.length ?? 0).toBeLessThanOrEqual(20);
    expect(fromPrimary).toBeGreaterThanOrEqual(90);
  });

  it('hedges a hung primary to the fallback after its observed p95, well inside the budget', async () => {
    for (let i = 0; i < 30; i++) await score(); // p95 of the primary: a few ms
    bed.received.clear();
    bed.behaviour.set('primary', { holdMs: 5_000 });
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
    expect(
      bed.received.get('fallback')![0]! - bed.received.get('primary')!.at(-1)!,
    ).toBeGreaterThanOrEqual(0);
  });

  it('opens the circuit of a failing model: later calls skip it (CIRCUIT_OPEN) without calling it', async () => {
    bed.behaviour.set('primary', { fail: true });
    // Opens once failures pass 50% of the calls in its 10 s window (earlier tests' successes too).
    let opened = false;
    for (let i = 0; i < 300 && !opened; i++) {
      const reply = await score();
      expect(reply.servedBy?.model).toBe('fallback');
      opened = reply.reasons.includes(DegradationReason.CIRCUIT_OPEN);
    }
    expect(opened).toBe(true);
    const calls = bed.received.get('primary')?.length ?? 0;
    for (let i = 0; i < 10; i++) {
      const reply = await score();
      expect(reply.reasons).toContain(DegradationReason.CIRCUIT_OPEN);
      expect(reply.servedBy?.model).toBe('fallback');
    }
    expect(bed.received.get('primary')?.length ?? 0).toBe(calls);
    bed.behaviour.clear();
    // Half-open after the reset time: one probe succeeds and the primary is back.
    await new Promise((r) => setTimeout(r, 1_100));
    expect((await score()).servedBy?.model).toBe('primary');
  });

  it('skips a model whose required feature is missing and names the feature', async () => {
    bed.missingFor.set('k-missing', ['v:b']);
    const reply = await score(client, 'k-missing');
    expect(reply.servedBy?.model).toBe('fallback');
    expect(reply.reasons).toContain(DegradationReason.FEATURES_MISSING);
    expect(reply.missingFeatures).toEqual(['v:b']);
    expect(bed.received.get('primary')).toBeUndefined();
  });

  it('skips a model whose required feature is stale and names the feature', async () => {
    bed.staleFor.set('k-stale', ['v:b']);
    const reply = await score(await startGateway(), 'k-stale');
    expect(reply.servedBy?.model).toBe('fallback');
    expect(reply.degraded).toBe(true);
    expect(reply.reasons).toContain(DegradationReason.FEATURES_STALE);
    expect(reply.staleFeatures).toEqual(['v:b']);
    expect(reply.missingFeatures).toEqual([]);
    expect(bed.received.get('primary')).toBeUndefined();
  });

  it('skips a model whose observed p95 no longer fits the budget left (BUDGET_TOO_SMALL) without calling it', async () => {
    const slowPrimary = await gatewayWhere(primary, 5_000);
    const reply = await score(slowPrimary, 'k1', 300);
    expect(reply.servedBy?.model).toBe('fallback');
    expect(reply.degraded).toBe(true);
    expect(reply.reasons).toContain(DegradationReason.BUDGET_TOO_SMALL);
    expect(bed.received.get('primary')).toBeUndefined();
  });

  it("tries the chain's last model even when its observed p95 no longer fits the budget (last chance)", async () => {
    const slowFallback = await gatewayWhere(fallback, 5_000);
    bed.missingFor.set('k-missing', ['v:b']);
    const reply = await score(slowFallback, 'k-missing', 300);
    // The stand-in answers at once, whatever the record says.
    expect(reply.servedBy?.model).toBe('fallback');
    expect(reply.score).toBeCloseTo(0.6, 5);
    expect(reply.reasons).not.toContain(DegradationReason.BUDGET_TOO_SMALL);
    expect(bed.received.get('fallback')).toHaveLength(1);
  });

  it('gives the default answer inside the budget when every model is down', async () => {
    bed.behaviour.set('primary', { holdMs: 5_000 });
    bed.behaviour.set('fallback', { holdMs: 5_000 });
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
    bed.missingFor.set('k2', ['v:b']);
    const reply = await scoreBatch(batchClient, ['k1', 'k2', 'k3']);
    expect(reply.results.map((r) => r.servedBy?.model)).toEqual(['primary', 'fallback', 'primary']);
    expect(reply.results[1]).toMatchObject({ degraded: true, missingFeatures: ['v:b'] });
    expect(reply.results[0]).toMatchObject({ degraded: false, score: 0.75 });
    expect(bed.rowsSeen.get('primary')).toEqual([2]);
    expect(bed.rowsSeen.get('fallback')).toEqual([1]);
    expect(durationMs(reply.timings!.budget!)).toBe(200);
  });

  it('sends the items of a failed model call on to the next model, in one call (MODEL_ERROR)', async () => {
    bed.behaviour.set('primary', { fail: true });
    const reply = await scoreBatch(await startGateway(), ['k1', 'k2']);
    expect(reply.results.map((r) => r.servedBy?.model)).toEqual(['fallback', 'fallback']);
    for (const result of reply.results) {
      expect(result).toMatchObject({ degraded: true });
      expect(result.score).toBeCloseTo(0.6, 5);
      expect(result.reasons).toContain(DegradationReason.MODEL_ERROR);
    }
    expect(bed.rowsSeen.get('primary')).toEqual([2]);
    expect(bed.rowsSeen.get('fallback')).toEqual([2]);
  });

  it("gives no last chance: an item whose last model's observed p95 does not fit gets the default answer (BUDGET_TOO_SMALL), and that model is not called", async () => {
    const slowFallback = await gatewayWhere(fallback, 5_000);
    bed.missingFor.set('k-missing', ['v:b']);
    const reply = await scoreBatch(slowFallback, ['k1', 'k-missing'], 300);
    expect(reply.results[0]).toMatchObject({ servedBy: { model: 'primary' }, degraded: false });
    expect(reply.results[1]).toMatchObject({
      score: 0.3,
      servedBy: { alias: 'default' },
      degraded: true,
      missingFeatures: ['v:b'],
    });
    expect(reply.results[1]!.reasons).toEqual(
      expect.arrayContaining([
        DegradationReason.FEATURES_MISSING,
        DegradationReason.BUDGET_TOO_SMALL,
        DegradationReason.DEFAULT_ANSWER,
      ]),
    );
    expect(bed.received.get('fallback')).toBeUndefined();
  });
});

import { setTimeout as sleep } from 'node:timers/promises';
import { durationFromMs, durationMs } from '@bufbuild/protobuf/wkt';
import { DegradationReason, type ScoreResponse, type ScoreService } from '@scoregate/contracts';
import type { RpcClient } from '@scoregate/rpc';
import { createLogger } from '@scoregate/telemetry';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createChainResilience } from './chain-resilience.js';
import { FeatureCircuit } from './feature-circuit.js';
import { CIRCUIT_OPEN_DETAIL } from './fetch-features.js';
import type { Route } from './route-resolver.js';
import { ScoreTestBed, chainModel, testScorer } from './testing/score-test-bed.test.js';

const logger = createLogger({ service: 'gateway-feature-circuit-test', level: 'error' });
const bed = new ScoreTestBed({ logger });
const route: Route = {
  scorer: testScorer,
  chain: [chainModel('primary', ['v:a', 'v:b']), chainModel('fallback', ['v:a'])],
  budgetMs: undefined,
};
const BUDGET_MS = 100;
const FAILURES = 3;

let circuit: FeatureCircuit;
let client: RpcClient<typeof ScoreService>;

/** A gateway of its own whose feature circuit opens after FAILURES and probes after `openMs`. */
async function startGateway(openMs: number, selfQueued?: () => boolean) {
  circuit?.shutdown();
  circuit = new FeatureCircuit({ consecutiveFailures: FAILURES, openMs, logger, selfQueued });
  client = await bed.gateway(() => ({
    routes: { resolve: () => Promise.resolve(route) },
    resilience: createChainResilience(),
    featureCircuit: circuit,
    logger,
    defaultBudgetMs: BUDGET_MS,
    responseReserveMs: 2,
  }));
}

function score(key: string, budgetMs = BUDGET_MS): Promise<ScoreResponse> {
  return client.score({
    scorer: 'test-scorer',
    entityKeys: [{ entityType: 'customer', key }],
    budget: durationFromMs(budgetMs),
  });
}

const featuresStage = (reply: ScoreResponse) =>
  reply.timings?.stages.find((s) => s.stage === 'features');

/** Calls that each wait out the feature read's deadline, until the circuit opens. */
async function openTheCircuit(key: string) {
  bed.featuresHeldFor.set(key, 5_000);
  for (let i = 0; i < FAILURES; i++) {
    const reply = await score(key);
    expect(reply.reasons).toContain(DegradationReason.FEATURES_UNAVAILABLE);
    expect(featuresStage(reply)?.detail).toBe('');
  }
  expect(circuit.state()).toBe('open');
}

beforeAll(() => bed.start());
afterAll(async () => {
  circuit?.shutdown();
  await bed.stop();
});
beforeEach(() => bed.reset());

describe('feature circuit', () => {
  it('opens after reads late in a row: calls are then answered at once without reading, degraded, saying so', async () => {
    await startGateway(60_000);
    await openTheCircuit('frozen');
    const readsWhenOpened = bed.featureReads;
    for (let i = 0; i < 10; i++) {
      const reply = await score(i % 2 ? 'frozen' : 'c-0001');
      expect(reply.degraded).toBe(true);
      expect(reply.servedBy?.alias).toBe('default');
      expect(reply.reasons).toContain(DegradationReason.FEATURES_UNAVAILABLE);
      expect(reply.reasons).toContain(DegradationReason.DEFAULT_ANSWER);
      expect(featuresStage(reply)?.detail).toBe(CIRCUIT_OPEN_DETAIL);
      // Nothing waited for feature-service, whose read would have had half the budget.
      expect(durationMs(featuresStage(reply)!.elapsed!)).toBeLessThan(BUDGET_MS / 4);
    }
    expect(bed.featureReads).toBe(readsWhenOpened);
  });

  it('opens after failed reads in a row too', async () => {
    await startGateway(60_000);
    bed.featuresDownFor.add('down');
    for (let i = 0; i < FAILURES; i++) await score('down');
    expect(circuit.state()).toBe('open');
  });

  it("reads late while the gateway's own loop queues do not open it (its overload, not feature-service's); failed reads still do", async () => {
    let queueing = true;
    await startGateway(60_000, () => queueing);
    bed.featuresHeldFor.set('frozen', 5_000);
    for (let i = 0; i < 2 * FAILURES; i++) {
      const reply = await score('frozen');
      expect(reply.reasons).toContain(DegradationReason.FEATURES_UNAVAILABLE);
    }
    expect(circuit.state()).toBe('closed');
    bed.featuresDownFor.add('down');
    for (let i = 0; i < FAILURES; i++) await score('down');
    expect(circuit.state()).toBe('open');
    // Once the gateway no longer queues, late reads count again.
    await startGateway(60_000, () => queueing);
    queueing = false;
    await openTheCircuit('frozen');
  });

  it('a healthy read in between starts the count again', async () => {
    await startGateway(60_000);
    bed.featuresDownFor.add('down');
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < FAILURES - 1; i++) await score('down');
      // A budget no stall of this busy machine makes the healthy read miss.
      const healthy = await score('c-0001', 2_000);
      expect(healthy.reasons).not.toContain(DegradationReason.FEATURES_UNAVAILABLE);
      expect(featuresStage(healthy)?.detail).toBe('');
    }
    expect(circuit.state()).toBe('closed');
  });

  it('probes once after the open time, without the calling client waiting, and closes when the probe answers', async () => {
    await startGateway(200);
    await openTheCircuit('c-0001');
    bed.featuresHeldFor.clear(); // feature-service answers again
    await sleep(300);
    expect(circuit.state()).toBe('half-open');
    const reads = bed.featureReads;
    // The call that sends the probe does not wait for it.
    expect(featuresStage(await score('c-0001'))?.detail).toBe(CIRCUIT_OPEN_DETAIL);
    for (let waited = 0; circuit.state() !== 'closed' && waited < 2_000; waited += 10)
      await sleep(10);
    expect(circuit.state()).toBe('closed');
    expect(bed.featureReads).toBe(reads + 1);
    const recovered = await score('c-0001', 2_000);
    expect(recovered.reasons).not.toContain(DegradationReason.FEATURES_UNAVAILABLE);
    expect(featuresStage(recovered)?.detail).toBe('');
  });

  it('a probe that fails keeps the circuit open, one probe per open time', async () => {
    await startGateway(200);
    await openTheCircuit('c-0001');
    const reads = bed.featureReads;
    const until = performance.now() + 700;
    while (performance.now() < until) {
      const reply = await score('c-0001');
      expect(featuresStage(reply)?.detail).toBe(CIRCUIT_OPEN_DETAIL);
      await sleep(10);
    }
    // Open 200 ms, a probe that waits out its deadline, open again: two or three probes in 700 ms.
    expect(bed.featureReads - reads).toBeGreaterThanOrEqual(2);
    expect(bed.featureReads - reads).toBeLessThanOrEqual(3);
    expect(circuit.state()).not.toBe('closed');
  });
});

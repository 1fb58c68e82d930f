import { GRPCInferenceService } from '@scoregate/contracts';
import { encodeRaw, numberAt } from '@scoregate/inference-protocol';
import {
  Code,
  createRpcClient,
  createRpcServer,
  RpcError,
  type RpcClient,
  type RpcServer,
} from '@scoregate/rpc';
import { createLogger } from '@scoregate/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChainModel } from '../route-resolver.js';
import { held, modelInferOnly } from '../testing/score-test-bed.test.js';
import { createShadowRunner, type ShadowJob, type ShadowResult } from './shadow.js';

// A stand-in scoring-service over real gRPC: the thing under test is the runner, not the model.
// `hold` decides how long each ModelInfer takes; `fail` makes it answer UNAVAILABLE.
const logger = createLogger({ service: 'gateway-shadow-test', level: 'error' });
let server: RpcServer;
let scoring: RpcClient<typeof GRPCInferenceService>;
let holdMs = 0;
let fail = false;
let received = 0;

beforeAll(async () => {
  server = createRpcServer({ name: 'scoring-stand-in', logger });
  server.register(
    GRPCInferenceService,
    modelInferOnly(async (request, context) => {
      received++;
      if (holdMs > 0) await held(holdMs, context.signal);
      if (fail) throw new RpcError(Code.UNAVAILABLE, 'scoring stand-in is failing');
      return {
        modelName: request.modelName,
        modelVersion: '7',
        id: request.id,
        outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [1n, 2n] }],
        rawOutputContents: [
          encodeRaw({ datatype: 'FP32', shape: [1, 2], data: new Float32Array([0.25, 0.75]) }),
        ],
      };
    }),
  );
  const port = await server.listen('127.0.0.1:0');
  scoring = createRpcClient(GRPCInferenceService, { address: `127.0.0.1:${port}` });
  await scoring.waitForReady(5_000);
});

afterAll(async () => {
  scoring?.close();
  await server?.shutdown({ graceMs: 100 });
});

const shadowModel: ChainModel = {
  model: 'truck-roll-challenger',
  alias: 'challenger',
  version: '4',
  inputName: 'features',
  contract: [],
  outputs: [],
};

const job = (i: number): ShadowJob => ({
  scorer: 'truck-roll-priority',
  requestId: `req-${i}`,
  entity: { entityType: 'customer', key: `c-${i}` },
  model: shadowModel,
  row: new Float32Array(8).fill(i),
});

async function until(probe: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('shadow runner', () => {
  it('hands each shadow answer to the callback, with the version that answered and its outputs', async () => {
    holdMs = 0;
    fail = false;
    const results: ShadowResult[] = [];
    const backendAskedFor: string[] = [];
    const runner = createShadowRunner({
      // The per-model form, as with SCORING_ROUTES: the backend is chosen by the shadow model.
      scoring: (model: string) => {
        backendAskedFor.push(model);
        return scoring;
      },
      logger,
      maxInFlight: 4,
      onResult: (r) => void results.push(r),
    });
    expect(runner.run(job(1))).toBe(true);
    await until(() => results.length === 1, 5_000, 'shadow result');
    expect(results[0]!.error).toBeUndefined();
    expect(results[0]!.version).toBe('7');
    const probabilities = results[0]!.tensors!.probabilities!;
    expect([0, 1].map((i) => numberAt(probabilities, i))).toEqual([0.25, 0.75]);
    expect(results[0]!.job.requestId).toBe('req-1');
    expect(backendAskedFor).toEqual(['truck-roll-challenger']);
    expect(runner.stats()).toMatchObject({ started: 1, succeeded: 1, dropped: 0, inFlight: 0 });
  });

  it('never blocks the caller: 1,000 run() calls against a model that takes 300 ms return in well under 1 ms each', async () => {
    holdMs = 300;
    fail = false;
    received = 0;
    const results: ShadowResult[] = [];
    const runner = createShadowRunner({
      scoring,
      logger,
      maxInFlight: 16,
      timeoutMs: 2_000,
      onResult: (r) => void results.push(r),
    });
    const begin = performance.now();
    const accepted = Array.from({ length: 1_000 }, (_, i) => runner.run(job(i)));
    const callerMs = performance.now() - begin;
    expect(callerMs).toBeLessThan(100); // 1,000 calls: < 0.1 ms each on the caller's time

    // Bounded: 16 run, the other 984 are dropped and counted, none queued.
    expect(accepted.filter(Boolean)).toHaveLength(16);
    expect(runner.stats()).toMatchObject({ started: 16, dropped: 984, inFlight: 16 });
    await until(() => results.length === 16, 5_000, 'the 16 shadow calls');
    expect(received).toBe(16);
    expect(results.every((r) => r.error === undefined && r.latencyMs >= 250)).toBe(true);
    expect(runner.stats()).toMatchObject({ succeeded: 16, inFlight: 0 });

    // Room again once they finished.
    expect(runner.run(job(2_000))).toBe(true);
    await runner.drain(2_000);
    expect(runner.run(job(2_001))).toBe(false); // drained: refuses, counted
    expect(runner.stats().dropped).toBe(985);
  });

  it('gives each shadow call its own short deadline: a hung model ends in DEADLINE_EXCEEDED after timeoutMs, reported to the callback, never thrown', async () => {
    holdMs = 10_000;
    fail = false;
    const results: ShadowResult[] = [];
    const runner = createShadowRunner({
      scoring,
      logger,
      maxInFlight: 2,
      timeoutMs: 150,
      onResult: (r) => void results.push(r),
    });
    const begin = Date.now();
    expect(runner.run(job(1))).toBe(true);
    await until(() => results.length === 1, 3_000, 'shadow timeout');
    const elapsed = Date.now() - begin;
    expect(results[0]!.error?.code).toBe(Code.DEADLINE_EXCEEDED);
    expect(elapsed).toBeGreaterThanOrEqual(140);
    expect(elapsed).toBeLessThan(1_000);
    expect(runner.stats()).toMatchObject({ failed: 1, inFlight: 0 });
  });

  it('a failing model and a throwing callback stay inside the runner: counted as failed, nothing thrown', async () => {
    holdMs = 0;
    fail = true;
    let calls = 0;
    const runner = createShadowRunner({
      scoring,
      logger,
      maxInFlight: 8,
      onResult: (r) => {
        calls++;
        expect(r.error?.code).toBe(Code.UNAVAILABLE);
        throw new Error('callback broke');
      },
    });
    for (let i = 0; i < 5; i++) expect(() => runner.run(job(i))).not.toThrow();
    await until(
      () => runner.stats().failed === 5 && runner.stats().inFlight === 0,
      5_000,
      'five failures',
    );
    expect(calls).toBe(5);
    fail = false;
  });

  it('a scoring-service that is not there at all: run() still returns at once and the failure is counted', async () => {
    const absent = createRpcClient(GRPCInferenceService, { address: '127.0.0.1:1' });
    try {
      const results: ShadowResult[] = [];
      const runner = createShadowRunner({
        scoring: absent,
        logger,
        maxInFlight: 2,
        timeoutMs: 200,
        onResult: (r) => void results.push(r),
      });
      const begin = performance.now();
      expect(runner.run(job(1))).toBe(true);
      expect(performance.now() - begin).toBeLessThan(20);
      await until(() => results.length === 1, 3_000, 'failure');
      expect(results[0]!.error).toBeInstanceOf(RpcError);
      expect(runner.stats().failed).toBe(1);
    } finally {
      absent.close();
    }
  });
});

import { durationFromMs } from '@bufbuild/protobuf/wkt';
import { loadConfig } from '@scoregate/config';
import type { ScoreService } from '@scoregate/contracts';
import { Code, RpcError, type RpcClient } from '@scoregate/rpc';
import { createLogger } from '@scoregate/telemetry';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Admission } from './admission.js';
import { createChainResilience } from './chain-resilience.js';
import { gatewayConfig } from './config.js';
import type { Route } from './route-resolver.js';
import { ScoreTestBed, chainModel, testScorer } from './testing/score-test-bed.test.js';

const logger = createLogger({ service: 'gateway-admission-test', level: 'error' });
const bed = new ScoreTestBed({ logger });

const route: Route = {
  scorer: testScorer,
  chain: [chainModel('primary', ['v:a', 'v:b']), chainModel('fallback', ['v:a'])],
  budgetMs: undefined,
};

/** A gateway that admits at most two calls at once. */
let tightClient: RpcClient<typeof ScoreService>;

const score = (c = tightClient, key = 'k1', budgetMs = 100) =>
  c.score({
    scorer: 'test-scorer',
    entityKeys: [{ entityType: 'customer', key }],
    budget: durationFromMs(budgetMs),
  });

beforeAll(async () => {
  await bed.start();
  tightClient = await bed.gateway(() => ({
    routes: { resolve: () => Promise.resolve(route) },
    resilience: createChainResilience(),
    logger,
    defaultBudgetMs: 100,
    responseReserveMs: 2,
    admission: new Admission({
      minimumMs: 2,
      defaultBudgetMs: 100,
      limit: { initialLimit: 2, minLimit: 2, maxLimit: 2 },
    }),
  }));
  // Connections up and the path compiled before anything is timed.
  for (let i = 0; i < 5; i++) await score();
});

afterAll(() => bed.stop());

beforeEach(() => bed.reset());

describe('admission control', () => {
  it('refuses at once with RESOURCE_EXHAUSTED above the concurrency limit, saying why', async () => {
    bed.behaviour.set('primary', { holdMs: 300 });
    bed.behaviour.set('fallback', { holdMs: 300 });
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

describe('admission control resting limit', () => {
  const admissions: Admission[] = [];
  afterEach(() => admissions.splice(0).forEach((admission) => admission.stop()));

  /** The Admission the gateway builds from this environment. */
  const restingLimitWith = (environment: Record<string, string>) => {
    const config = loadConfig('gateway', gatewayConfig, environment);
    const admission = new Admission({
      minimumMs: 2,
      defaultBudgetMs: 100,
      limit: { initialLimit: config.GATEWAY_ADMISSION_RESTING_LIMIT },
    });
    admissions.push(admission);
    return admission.limit.limit;
  };

  it('rests at GATEWAY_ADMISSION_RESTING_LIMIT, 256 calls unless set', () => {
    expect(restingLimitWith({})).toBe(256);
    expect(restingLimitWith({ GATEWAY_ADMISSION_RESTING_LIMIT: '40' })).toBe(40);
  });

  it('rests at the same limit when a caller gives none', () => {
    const admission = new Admission({ minimumMs: 2, defaultBudgetMs: 100 });
    admissions.push(admission);
    expect(admission.limit.limit).toBe(256);
  });
});

import { join } from 'node:path';
import { durationFromMs, durationMs } from '@bufbuild/protobuf/wkt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DegradationReason, ScoreService, type ScoreResponse } from '@scoregate/contracts';
import { RpcError, createRpcClient, type RpcClient } from '@scoregate/rpc';
import type { RunningStack } from '@scoregate/stack';
import { repoRoot, sleep } from './chaos-fixture.js';
import { startPrivateRedis, type PrivateRedis } from '@scoregate/test-servers';
import { startFaultStack, summarize, type Outcome } from './fault-fixture.js';

const SCORER = 'truck-roll-priority';
const PRIMARY = 'truck-roll-gbt';
const BUDGET_MS = 100;
// Client-measured wall time may exceed the budget by this much on the shared 2-core machine
// (gRPC round trip + a stalled event loop); the gateway's own total is held to the budget.
const MARGIN_MS = 50;
const OUTAGE_MS = 5_000;
const RECOVERY_BOUND_MS = 5_000;
const keys = ['c-0001', 'c-0002', 'c-0003', 'c-0004', 'c-0005'];

let redis: PrivateRedis;
let stack: RunningStack & { output: string[] };
let client: RpcClient<typeof ScoreService>;

beforeAll(async () => {
  redis = await startPrivateRedis({ persistent: true });
  stack = await startFaultStack({
    'feature-service': {
      FEATURE_STORE: 'redis',
      REDIS_URL: redis.url,
      FEATURE_REDIS_PREFIX: `sg:chaos:${process.pid}:`,
      FEATURE_SEED_FILE: join(repoRoot, 'tools/models/fixtures/demo-entities.json'),
    },
  });
  client = createRpcClient(ScoreService, {
    address: stack.address('gateway'),
    defaultTimeoutMs: 5_000,
  });
});

afterAll(async () => {
  client?.close();
  await stack?.stop();
  await redis?.dispose();
});

function score(key: string, budgetMs = BUDGET_MS): Promise<ScoreResponse> {
  return client.score({
    scorer: SCORER,
    entityKeys: [{ entityType: 'customer', key }],
    budget: durationFromMs(budgetMs),
  });
}

async function timed(key: string): Promise<Outcome> {
  const t0 = performance.now();
  try {
    const reply = await score(key);
    return { ok: true, ms: performance.now() - t0, reply };
  } catch (error) {
    return { ok: false, ms: performance.now() - t0, error: RpcError.from(error).message };
  }
}

describe('Redis stopped (real processes, private redis-server SIGKILLed)', () => {
  it('Score answers OK within budget, degraded with FEATURES_UNAVAILABLE, 0 errors, and is served by the primary again by itself once Redis returns', async () => {
    // Healthy: the seeded demo customer is answered by the primary, not degraded.
    for (let i = 0; i < 50; i++) await score(keys[i % keys.length]!, 1_000);
    const healthy = await score('c-0001', 1_000);
    expect(healthy.servedBy?.model).toBe(PRIMARY);
    expect(healthy.degraded).toBe(false);

    await redis.stop();

    // Outage: 3 concurrent callers for OUTAGE_MS.
    const outcomes: Outcome[] = [];
    const wrong: string[] = [];
    const late: string[] = [];
    const until = performance.now() + OUTAGE_MS;
    let n = 0;
    const caller = async () => {
      while (performance.now() < until) {
        const i = n++;
        const o = await timed(keys[i % keys.length]!);
        outcomes.push(o);
        if (!o.ok) continue;
        const r = o.reply!;
        const total = durationMs(r.timings!.total!);
        if (
          !r.degraded ||
          !r.reasons.includes(DegradationReason.FEATURES_UNAVAILABLE) ||
          r.servedBy?.model === PRIMARY ||
          durationMs(r.timings!.budget!) > BUDGET_MS
        ) {
          wrong.push(`#${i}: not degraded with FEATURES_UNAVAILABLE, or another budget`);
        }
        if (total > BUDGET_MS || o.ms > BUDGET_MS + MARGIN_MS) {
          late.push(
            `#${i}: ${o.ms.toFixed(1)} ms (gateway ${total.toFixed(1)}) by ${r.servedBy?.model || 'default'} degraded=${r.degraded} reasons ${r.reasons.map((x) => DegradationReason[x]).join(',')} stages ${r.timings!.stages.map((st) => `${st.stage}${st.detail ? `(${st.detail})` : ''}=${durationMs(st.elapsed!).toFixed(1)}`).join(' ')}`,
          );
        }
      }
    };
    await Promise.all(Array.from({ length: 3 }, caller));
    const errors = outcomes.filter((o) => !o.ok).map((o) => o.error);
    const served = new Map<string, number>();
    for (const o of outcomes.filter((x) => x.ok)) {
      const m = o.reply!.servedBy?.model || 'default';
      served.set(m, (served.get(m) ?? 0) + 1);
    }
    console.log(
      `redis down: ${summarize(outcomes, BUDGET_MS)}; served by ${JSON.stringify([...served])}`,
    );
    expect(errors).toEqual([]);
    console.log(
      `late (over budget in the gateway, or client over budget + ${MARGIN_MS} ms): ${late.length}\n${late.slice(0, 5).join('\n')}`,
    );
    expect(wrong.slice(0, 10)).toEqual([]);
    expect(outcomes.length).toBeGreaterThanOrEqual(100);
    // On this shared 2-core machine (other stacks running) a stalled process can make a few
    // calls per thousand late: the timing is held at 99%, correctness at 100%.
    expect(late.length).toBeLessThanOrEqual(Math.floor(outcomes.length * 0.01));

    // Redis returns on the same port with its append-only data; no service is restarted.
    await redis.start();
    const back = performance.now();
    let recovered: ScoreResponse | undefined;
    let polls = 0;
    while (performance.now() - back < RECOVERY_BOUND_MS) {
      polls++;
      const o = await timed('c-0001');
      expect(o.error).toBeUndefined();
      if (o.reply?.servedBy?.model === PRIMARY && !o.reply.degraded) {
        recovered = o.reply;
        break;
      }
      await sleep(50);
    }
    const recoveryMs = performance.now() - back;
    console.log(`redis back: primary again after ${recoveryMs.toFixed(0)} ms (${polls} polls)`);
    expect(recovered?.servedBy?.model).toBe(PRIMARY);
    expect(recovered?.reasons).toEqual([]);
    // And it stays recovered for every demo customer.
    for (const key of keys) {
      const r = await score(key, 1_000);
      expect(r.servedBy?.model).toBe(PRIMARY);
      expect(r.degraded).toBe(false);
    }
  });
});

import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { durationFromMs, durationMs, timestampNow } from '@bufbuild/protobuf/wkt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DegradationReason,
  FeatureService,
  ScoreService,
  type ScoreResponse,
} from '@scoregate/contracts';
import { RpcError, createRpcClient, type RpcClient } from '@scoregate/rpc';
import type { RunningStack } from '@scoregate/stack';
import {
  percentile,
  sleep,
  startChaosStack,
  startProcess,
  type ExtraProcess,
} from './chaos-fixture.js';

const SCORER = 'truck-roll-priority';
const PRIMARY = 'truck-roll-gbt';
const FALLBACK = 'truck-roll-logreg';
// The scorer default; a 40 ms stall of some process on a busy 2-core machine still fits.
const BUDGET_MS = 100;

let stack: RunningStack & { dir: string };
let replicaP: ExtraProcess;
let replicaQ: ExtraProcess;
let gateway: ExtraProcess;
let client: RpcClient<typeof ScoreService>;
let features: RpcClient<typeof FeatureService>;

beforeAll(async () => {
  stack = await startChaosStack();
  const scoringEnv = (name: string) => ({
    SCORING_REGISTRY_ADDRESS: stack.address('registry-service'),
    SCORING_CACHE_DIR: join(stack.dir, `scoring-${name}`),
  });
  [replicaP, replicaQ] = await Promise.all([
    startProcess('scoring-service', scoringEnv('p')),
    startProcess('scoring-service', scoringEnv('q')),
  ]);
  // The primary model is served by two replicas of its own; the fallback by the stack's scoring.
  gateway = await startProcess('gateway', {
    FEATURE_SERVICE_ADDRESS: stack.address('feature-service'),
    REGISTRY_SERVICE_ADDRESS: stack.address('registry-service'),
    SCORING_SERVICE_ADDRESS: stack.address('scoring-service'),
    SCORING_ROUTES: `${PRIMARY}=ipv4:${replicaP.address},${replicaQ.address}`,
  });
  client = createRpcClient(ScoreService, { address: gateway.address, defaultTimeoutMs: 5_000 });
  features = createRpcClient(FeatureService, {
    address: stack.address('feature-service'),
    defaultTimeoutMs: 5_000,
  });
});

afterAll(async () => {
  client?.close();
  features?.close();
  await Promise.all([gateway?.stop(), replicaP?.stop(), replicaQ?.stop()]);
  await stack?.stop();
});

function score(key: string, budgetMs = BUDGET_MS): Promise<ScoreResponse> {
  return client.score({
    scorer: SCORER,
    entityKeys: [{ entityType: 'customer', key }],
    budget: durationFromMs(budgetMs),
  });
}

const demoKeys = ['c-0001', 'c-0002', 'c-0003', 'c-0004', 'c-0005'];

/** Score calls answered per second with `concurrency` always in flight, over `ms`. */
async function closedLoopCapacity(ms: number, concurrency: number): Promise<number> {
  const until = performance.now() + ms;
  let answered = 0;
  const worker = async (offset: number) => {
    for (let i = offset; performance.now() < until; i += concurrency) {
      await score(demoKeys[i % demoKeys.length]!, 1_000);
      answered++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, (_, i) => worker(i)));
  return answered / ((performance.now() - started) / 1_000);
}

async function warmUp(calls: number): Promise<void> {
  for (let i = 0; i < calls; i++) await score(demoKeys[i % demoKeys.length]!, 1_000);
}

describe('routing under faults (real processes)', () => {
  it('a required feature missing for an entity: the best model whose contract is met answers, naming the missing features', async () => {
    const key = `chaos-${randomUUID()}`;
    const int = (value: number) => ({
      kind: { case: 'int64Value' as const, value: BigInt(value) },
    });
    // Only the fallback's four inputs are stored for this entity.
    await features.writeFeatures({
      rows: [
        {
          entity: { entityType: 'customer', key },
          view: 'customer_stats',
          values: {
            tickets_30d: int(2),
            calls_7d: int(3),
            modem_age_months: int(30),
            plan_tier: int(1),
          },
          eventTime: timestampNow(),
        },
      ],
    });
    const reply = await score(key, 1_000);
    expect(reply.servedBy?.model).toBe(FALLBACK);
    expect(reply.degraded).toBe(true);
    expect(reply.reasons).toContain(DegradationReason.FEATURES_MISSING);
    expect([...reply.missingFeatures].sort()).toEqual([
      'customer_stats:error_rate_1h',
      'customer_stats:outage_minutes_7d',
      'customer_stats:reboots_24h',
      'customer_stats:signal_snr_db',
    ]);
    // An entity with every feature is answered by the primary, not degraded.
    const full = await score('c-0001', 1_000);
    expect(full.servedBy?.model).toBe(PRIMARY);
    expect(full.degraded).toBe(false);
  });

  it('two replicas of the primary at 300 calls/s (at most half the capacity), one SIGKILLed: 0 failed Score calls', async () => {
    await warmUp(200);
    // The kill must lose no call below capacity; on a machine too slow for 300/s, 300/s would be
    // overload, which admission control rightly refuses. So: half the capacity measured here.
    const rate = Math.min(300, Math.round((await closedLoopCapacity(2_000, 16)) / 2));
    const durationMsTotal = 6_000;
    const results: { ok: boolean; model: string; error?: string }[] = [];
    const inflight: Promise<void>[] = [];
    const started = performance.now();
    let issued = 0;
    let killed = false;
    while (performance.now() - started < durationMsTotal) {
      const elapsed = performance.now() - started;
      if (!killed && elapsed > 2_000) {
        replicaQ.process.kill('SIGKILL');
        killed = true;
      }
      const due = Math.floor((elapsed * rate) / 1_000);
      for (; issued < due; issued++) {
        inflight.push(
          score(demoKeys[issued % demoKeys.length]!, 1_000).then(
            (r) => void results.push({ ok: true, model: r.servedBy?.model ?? '' }),
            (e: unknown) =>
              void results.push({ ok: false, model: '', error: RpcError.from(e).message }),
          ),
        );
      }
      await sleep(2);
    }
    // The offered load: calls issued over the issuing window (open loop, so not slowed by replies).
    const offeredPerS = issued / ((performance.now() - started) / 1_000);
    await Promise.all(inflight);
    const elapsedS = (performance.now() - started) / 1_000;
    await replicaQ.exited;
    const failed = results.filter((r) => !r.ok);
    const byPrimary = results.filter((r) => r.model === PRIMARY).length;
    console.log(
      `replica kill: ${results.length} calls offered at ${offeredPerS.toFixed(0)}/s (target ${rate}/s) ` +
        `(${(results.length / elapsedS).toFixed(0)}/s including the last replies), ` +
        `${failed.length} failed, ${byPrimary} answered by ${PRIMARY}`,
    );
    expect(offeredPerS).toBeGreaterThanOrEqual(rate * 0.95);
    expect(results.length).toBe(issued);
    expect([...new Set(failed.map((f) => f.error))]).toEqual([]);
    // The surviving replica takes over: the primary keeps answering almost every call.
    expect(byPrimary / results.length).toBeGreaterThanOrEqual(0.95);
  });

  it('primary model hung (its replica SIGSTOPped): 100% of 2,000 calls OK and degraded with the reason, at least 99% through the fallback within budget + 5 ms', async () => {
    await warmUp(300);
    // Unloaded floor of this test: the healthy path.
    replicaP.process.kill('SIGSTOP');
    try {
      const latencies: number[] = [];
      // Late or default answers (a stalled process on the shared machine) vs. wrong answers.
      const bad: string[] = [];
      const wrong: string[] = [];
      const reasons = new Map<string, number>();
      let next = 0;
      const worker = async () => {
        while (next < 2_000) {
          const i = next++;
          const t0 = performance.now();
          try {
            const reply = await score(demoKeys[i % demoKeys.length]!);
            const ms = performance.now() - t0;
            latencies.push(ms);
            for (const r of reply.reasons)
              reasons.set(DegradationReason[r], (reasons.get(DegradationReason[r]) ?? 0) + 1);
            const hasReason = reply.reasons.some((r) =>
              [
                DegradationReason.PRIMARY_TIMEOUT,
                DegradationReason.CIRCUIT_OPEN,
                DegradationReason.BUDGET_TOO_SMALL,
              ].includes(r),
            );
            if (!reply.degraded || !hasReason || durationMs(reply.timings!.budget!) > BUDGET_MS) {
              wrong.push(`#${i}: not degraded with a reason, or another budget`);
            }
            if (reply.servedBy?.model !== FALLBACK || ms > BUDGET_MS + 5) {
              bad.push(
                `#${i}: ${ms.toFixed(1)} ms by ${reply.servedBy?.model || 'default'} reasons ${reply.reasons.map((r) => DegradationReason[r]).join(',')} stages ${reply.timings?.stages.map((s) => `${s.stage}${s.detail}=${durationMs(s.elapsed!).toFixed(1)}`).join(' ')}`,
              );
            }
          } catch (error) {
            wrong.push(`#${i}: ${RpcError.from(error).message}`);
          }
        }
      };
      await Promise.all(Array.from({ length: 4 }, worker));
      console.log(
        `primary hung: 2000 calls, p50 ${percentile(latencies, 0.5).toFixed(1)} ms, p99 ${percentile(latencies, 0.99).toFixed(1)} ms, ` +
          `max ${Math.max(...latencies).toFixed(1)} ms, reasons ${JSON.stringify([...reasons])}`,
      );
      console.log(
        `late or not through the fallback: ${bad.length}\n${bad.slice(0, 10).join('\n')}`,
      );
      // Every call answers OK, degraded with its reason; on this shared 2-core machine a few
      // calls per thousand can land late when a process stalls, so the timing is held at 99%.
      expect(wrong).toEqual([]);
      expect(latencies.length).toBe(2_000);
      expect(bad.length).toBeLessThanOrEqual(20);
    } finally {
      replicaP.process.kill('SIGCONT');
    }
  });
});

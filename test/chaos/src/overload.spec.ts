import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningStack } from '@scoregate/stack';
import { percentile, startChaosStack } from './chaos-fixture.js';
import { runLoad, type CallRecord, type LoadOptions, type LoadRun } from './load-generator.js';

// Overload at twice the capacity measured in this run, driven from outside by ghz (a Go load
// generator, open loop: it keeps sending whatever the gateway answers).
//
// Capacity: an open-loop ramp (+100 calls/s every second, well past what the stack can serve);
// the capacity is the mean of its three best seconds of good answers (OK within the budget) —
// the most the stack served.
const BUDGET_MS = 100;
const request = {
  scorer: 'truck-roll-priority',
  entity_keys: [{ entity_type: 'customer', key: 'c-0001' }],
  budget: `${BUDGET_MS / 1000}s`,
};
// The first seconds of the overload run are the limit settling from its starting value; the
// figures are taken after them.
const SETTLE_MS = 2_000;

let stack: RunningStack;
let gateway: string;

beforeAll(async () => {
  stack = await startChaosStack();
  gateway = stack.address('gateway');
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

const isGood = (c: CallRecord) => c.status === 'OK' && c.latencyMs <= BUDGET_MS;
const latencies = (calls: readonly CallRecord[]) => calls.map((c) => c.latencyMs);
const round = (n: number) => Math.round(n * 100) / 100;

function statuses(calls: readonly CallRecord[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const call of calls) counts[call.status] = (counts[call.status] ?? 0) + 1;
  return counts;
}

/** Runs ghz against the gateway. */
function load(options: Omit<LoadOptions, 'address' | 'request' | 'timeoutMs'>): Promise<LoadRun> {
  return runLoad({ address: gateway, request, timeoutMs: 1_000, ...options });
}

/** The mean of the `n` best whole seconds of good answers in a run. */
function bestSeconds(run: LoadRun, n: number): number {
  const perSecond = new Map<number, number>();
  const last = Math.floor(run.seconds) - 1;
  for (const call of run.calls) {
    const second = Math.floor(call.atMs / 1000);
    if (second < last && isGood(call)) perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
  }
  const best = [...perSecond.values()].sort((a, b) => b - a).slice(0, n);
  return best.reduce((sum, v) => sum + v, 0) / Math.max(1, best.length);
}

/** 15 s at twice `capacity`, open loop; the figures after the first SETTLE_MS. */
async function overloadAt(capacity: number) {
  const run = await load({ seconds: 15, rate: Math.round(2 * capacity), concurrency: 400 });
  const calls = run.calls.filter((c) => c.atMs >= SETTLE_MS);
  const seconds = run.seconds - SETTLE_MS / 1000;
  return {
    all: run.calls,
    offered: run.calls.length / run.seconds,
    calls,
    refused: calls.filter((c) => c.status === 'ResourceExhausted'),
    admitted: calls.filter((c) => c.status === 'OK'),
    seconds,
    goodput: calls.filter(isGood).length / seconds,
  };
}

describe('overload at twice the measured capacity', () => {
  it('refuses at once with RESOURCE_EXHAUSTED, serves what it admits in time, keeps the goodput', async () => {
    await load({ seconds: 3, rate: 200, concurrency: 20 }); // warm-up: JIT, connections, p95s

    const unloaded = await load({ seconds: 10, rate: 50, concurrency: 10 });
    expect(statuses(unloaded.calls)).toEqual({ OK: unloaded.calls.length });
    const unloadedP99 = percentile(latencies(unloaded.calls), 0.99);

    const ramp = await load({
      seconds: 18,
      ramp: { from: 200, stepPerSecond: 100 },
      concurrency: 400,
    });
    let capacity = bestSeconds(ramp, 3);
    let overload = await overloadAt(capacity);
    // The ramp underestimates the capacity — by about 40% on this machine (the limit settles
    // while the rate climbs), more when the shared machine is briefly slower — and then twice it
    // is no overload: the gateway rightly refuses little (a fresh-clone CI run: the ramp said
    // 118/s, 235/s were offered, 19% refused) and serves well above the "capacity". Then measure
    // once more, at twice what was served (OK answers, in time or not). A gateway that does not
    // shed load fails the second run as well: at twice what it can serve it refuses nothing.
    if (overload.refused.length <= overload.calls.length / 4 || overload.goodput > 1.3 * capacity) {
      const served = overload.admitted.length / overload.seconds;
      console.log(
        `twice ${round(capacity)}/s was no overload (${overload.refused.length} of ${overload.calls.length} refused, ${round(served)}/s served); again from ${round(Math.max(capacity, served))}/s`,
      );
      capacity = Math.max(capacity, served);
      overload = await overloadAt(capacity);
    }
    const { calls, refused, admitted, goodput } = overload;
    const figures = {
      unloadedP99: round(unloadedP99),
      capacity: round(capacity),
      offered: round(overload.offered),
      statuses: statuses(overload.all),
      refusedP50: round(percentile(latencies(refused), 0.5)),
      refusedP95: round(percentile(latencies(refused), 0.95)),
      refusedP99: round(percentile(latencies(refused), 0.99)),
      admittedP50: round(percentile(latencies(admitted), 0.5)),
      admittedP95: round(percentile(latencies(admitted), 0.95)),
      admittedP99: round(percentile(latencies(admitted), 0.99)),
      admittedP99OverUnloaded: round(percentile(latencies(admitted), 0.99) / unloadedP99),
      goodput: round(goodput),
      goodputOverCapacity: round(goodput / capacity),
    };
    console.log('overload', JSON.stringify(figures));

    // Every call got an answer — served, or refused as overload: nothing timed out or failed.
    expect(Object.keys(statuses(overload.all)).sort()).toEqual(['OK', 'ResourceExhausted']);
    // It was overload: a large share refused, with the reason.
    expect(refused.length).toBeGreaterThan(calls.length / 4);
    expect(refused[0]?.error).toMatch(/gateway overloaded, request refused/);
    // The bounds below are looser than the targets (refusals within 5 ms, admitted p99
    // within 2x the unloaded p99, goodput at least 90% of capacity): on 2 cores shared by ghz
    // sending 2,000+ calls/s and the five services, scheduling stalls move the tails from run to
    // run. The printed figures are what to compare with the targets (README, Benchmarks).
    // Refused at once, not queued: the typical refusal within 10 ms, 95% of them before the
    // budget would have run out.
    expect(percentile(latencies(refused), 0.5)).toBeLessThanOrEqual(10);
    expect(percentile(latencies(refused), 0.95)).toBeLessThan(BUDGET_MS);
    // What was admitted was not queued: within twice the budget plus the unloaded p99 measured in
    // the same run (this machine's own floor for a call: ghz, the kernel, the services at rest),
    // since machines differ; without admission control the p95 is several times the budget.
    expect(percentile(latencies(admitted), 0.95)).toBeLessThanOrEqual(2 * BUDGET_MS + unloadedP99);
    // ...and shedding never collapsed the goodput.
    expect(goodput).toBeGreaterThanOrEqual(0.5 * capacity);
  }, 180_000);
});

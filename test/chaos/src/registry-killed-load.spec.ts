import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningStack } from '@scoregate/stack';
import { percentile, sleep } from './chaos-fixture.js';
import { startFaultStack } from './fault-fixture.js';
import * as faults from './fault-load.js';

// registry-service SIGKILLed under 100 Score calls/s, driven from outside by ghz (open loop, a
// 200 ms client deadline, a 50 ms budget), watched for the 30 s that follow: the gateway's route
// table and scoring-service's models outlive the registry, and their watches retrying it must
// cost no call its budget.
const BUDGET_MS = 50;
const BEFORE_MS = 5_000;
const AFTER_MS = 30_000;

let stack: RunningStack & { output: string[] };
let faultLoad: faults.FaultLoad;

beforeAll(async () => {
  stack = await startFaultStack();
  faultLoad = {
    address: stack.address('gateway'),
    request: {
      scorer: 'truck-roll-priority',
      entity_keys: [{ entity_type: 'customer', key: 'c-0001' }],
      budget: `${BUDGET_MS / 1000}s`,
    },
    rate: 100,
    deadlineMs: 200,
  };
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

/** SIGKILLs registry-service `BEFORE_MS` into the run. */
async function killRegistry(): Promise<number> {
  await sleep(BEFORE_MS);
  const killedAt = Date.now();
  stack.services['registry-service'].process.kill('SIGKILL');
  return killedAt;
}

describe('registry killed under load (real processes, registry-service SIGKILLed at 100 calls/s)', () => {
  it('no call over budget in the 30 s that follow', async () => {
    await faults.loadFor(faultLoad, 3); // warm-up: JIT, connections, the models' p95s
    const unloaded = await faults.loadFor(faultLoad, 5);
    const [run, killedAt] = await Promise.all([
      faults.loadFor(faultLoad, (BEFORE_MS + AFTER_MS) / 1000),
      killRegistry(),
    ]);
    expect(await stack.services['registry-service'].exited).toBe('SIGKILL');
    // The control: the same load with no fault (a run of its own, and this run before the kill).
    const control = [
      ...unloaded.calls,
      ...run.calls.filter((c) => faults.startOf(run, c) < killedAt),
    ];
    const after = run.calls.filter((c) => faults.startOf(run, c) >= killedAt);
    const figures = {
      ...faults.controlFigures(control, BUDGET_MS),
      afterStatuses: faults.statuses(after),
      afterOverBudget: faults.overBudget(after, BUDGET_MS).length,
      afterP99: faults.round(percentile(faults.latencies(after), 0.99)),
    };
    console.log('registry killed', JSON.stringify(figures));
    console.log(`from SIGKILL:\n${faults.timeline(run, killedAt)}`);

    expect(after.length).toBeGreaterThan((AFTER_MS / 1000) * faultLoad.rate * 0.9);
    // The target: 0 calls over budget (or failed) in the 30 s after the kill — unless
    // this machine misses the budget with no fault too.
    expect(figures.afterOverBudget).toBeLessThanOrEqual(
      faults.asInControl(figures.controlOverBudget, control.length, after.length),
    );
    expect(faults.failed(after).length).toBeLessThanOrEqual(
      faults.asInControl(figures.controlFailed, control.length, after.length),
    );
  }, 150_000);
});

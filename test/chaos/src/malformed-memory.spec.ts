import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningStack } from '@scoregate/stack';
import {
  connectHeapInspector,
  INSPECT_ON_FREE_PORT,
  INSPECTOR_ANNOUNCEMENT,
  sendMalformedScoreCalls,
  type HeapInspector,
} from '@scoregate/test-servers';
import { startChaosStack } from './chaos-fixture.js';

// The gateway's memory under malformed traffic (seeded random bytes, truncated requests, valid
// encodings with a bad field), read from outside: RSS from /proc and the V8 heap through the
// gateway's inspector. tools/bench/garbage.ts runs the same traffic for as long as asked.
const WARM_UP_CALLS = 3_000;
const CALLS = 30_000;
const CONCURRENCY = 32;
const MB = 1024 * 1024;
// What a malformed call may be answered: the client's fault, an unknown scorer, a valid request
// after all (a truncation can end at a field boundary), or a refusal under load.
const DOCUMENTED = ['INVALID_ARGUMENT', 'NOT_FOUND', 'OK', 'RESOURCE_EXHAUSTED'];

let stack: RunningStack;
let heap: HeapInspector;
const rss = () => {
  const status = readFileSync(`/proc/${stack.services.gateway.process.pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]) * 1024;
};

beforeAll(async () => {
  let announced: (url: string) => void = () => {};
  const inspectorUrl = new Promise<string>((resolve) => (announced = resolve));
  stack = await startChaosStack({
    gatewayEnv: { NODE_OPTIONS: INSPECT_ON_FREE_PORT },
    onOutput: (service, line) => {
      const url = INSPECTOR_ANNOUNCEMENT.exec(line)?.[1];
      if (service === 'gateway' && url) announced(url);
    },
  });
  heap = await connectHeapInspector(await inspectorUrl);
}, 120_000);

afterAll(async () => {
  heap?.close();
  await stack?.stop();
});

describe('the gateway under malformed traffic', () => {
  it('runs with a bounded V8 heap: 4 MB semi-spaces, at most 512 MB of old generation', async () => {
    // V8's own sizing on a 24 GB machine: 32 MB semi-spaces and a 4 GB limit.
    expect((await heap.spaceSizes())['new_space']).toBeLessThanOrEqual(8 * MB);
    expect(await heap.sizeLimit()).toBeLessThanOrEqual(600 * MB);
  });

  it(`answers ${CALLS} malformed calls with documented statuses, and its memory stays where warm-up left it`, async () => {
    const address = stack.address('gateway');
    await sendMalformedScoreCalls({
      address,
      calls: WARM_UP_CALLS,
      concurrency: CONCURRENCY,
      seed: 7,
    });
    const before = { rss: rss(), retained: (await heap.retained()).usedBytes };

    const statuses = await sendMalformedScoreCalls({
      address,
      calls: CALLS,
      concurrency: CONCURRENCY,
      seed: 18,
    });
    const after = { rss: rss(), retained: (await heap.retained()).usedBytes };
    const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;
    console.log(
      `gateway after ${WARM_UP_CALLS} + ${CALLS} malformed calls: RSS ${mb(before.rss)} → ${mb(after.rss)}, ` +
        `heap kept after GC ${mb(before.retained)} → ${mb(after.retained)}; ${JSON.stringify(statuses)}`,
    );

    expect(Object.keys(statuses).filter((name) => !DOCUMENTED.includes(name))).toEqual([]);
    // 97% are refused as the client's fault (the rest: unknown scorers, valid after all).
    expect(statuses['INVALID_ARGUMENT']).toBeGreaterThan(CALLS * 0.85);
    // Nothing a call leaves behind is kept: what survives a full GC does not grow.
    expect((after.retained - before.retained) / MB).toBeLessThan(5);
    expect((after.rss - before.rss) / MB).toBeLessThan(50);
    // The heap in reach of the bounds above, not of V8's 4 GB default.
    expect((await heap.memoryUsage()).heapTotal).toBeLessThan(150 * MB);
  }, 300_000);
});

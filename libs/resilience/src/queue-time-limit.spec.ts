import { afterEach, describe, expect, it } from 'vitest';
import { QueueTimeLimit, type Permit } from './queue-time-limit.js';
import { eventLoopQueueTime, type QueueTimeProbe } from './queue-time.js';

/** A probe the test sets; the limit's own timer never fires within a test (interval 1 h). */
const quietProbe: QueueTimeProbe = { read: () => 0, stop: () => {} };
const limits: QueueTimeLimit[] = [];
function limitOf(options: ConstructorParameters<typeof QueueTimeLimit>[0] = {}): QueueTimeLimit {
  const limit = new QueueTimeLimit({ probe: quietProbe, intervalMs: 3_600_000, ...options });
  limits.push(limit);
  return limit;
}
afterEach(() => limits.splice(0).forEach((l) => l.stop()));

function fill(limit: QueueTimeLimit, n: number): Permit[] {
  return Array.from({ length: n }, () => limit.tryAcquire() as Permit);
}

describe('QueueTimeLimit', () => {
  it('refuses at once above the limit, with the reason, and admits again once a call ends', () => {
    const limit = limitOf({ initialLimit: 2 });
    const [first] = fill(limit, 2);
    expect(limit.refusal()).toMatch(/2 requests in flight \(limit 2/);
    expect(limit.tryAcquire()).toMatchObject({
      refused: true,
      reason: expect.stringMatching(/limit 2/),
    });
    first!.release('success', 3);
    expect(limit.refusal()).toBeUndefined();
    expect(limit.tryAcquire().refused).toBe(false);
  });

  it('refuses a request whose budget is smaller than the time the work is expected to take', () => {
    const limit = limitOf();
    expect(limit.tryAcquire(5, 8)).toMatchObject({
      refused: true,
      reason: expect.stringMatching(/budget 5\.0 ms is smaller than the 8\.0 ms/),
    });
    expect(limit.inflight).toBe(0);
  });

  it('cuts the limit in proportion to the queueing time above the target, at most by half', () => {
    const limit = limitOf({ initialLimit: 100, targetQueueMs: 2 });
    limit.adjust(2.5); // 2 / 2.5 = 0.8
    expect(limit.limit).toBe(80);
    limit.adjust(40); // 2 / 40 would be 0.05: at most halved
    expect(limit.limit).toBe(40);
    limit.adjust(2.1); // just above: at least 10% off
    expect(limit.limit).toBe(36);
  });

  it('never goes below its minimum', () => {
    const limit = limitOf({ initialLimit: 10, minLimit: 8, targetQueueMs: 1 });
    for (let i = 0; i < 10; i++) limit.adjust(50);
    expect(limit.limit).toBe(8);
  });

  it('grows by √limit only while the queue is short and the limit was reached', () => {
    const limit = limitOf({ initialLimit: 16, maxLimit: 30 });
    limit.adjust(0);
    expect(limit.limit).toBe(16); // not in use: nothing learnt
    const permits = fill(limit, 16);
    limit.adjust(0.5);
    expect(limit.limit).toBe(20); // 16 + 4
    permits.forEach((p) => p.release('success', 1));
    limit.adjust(0.5); // not reached since
    expect(limit.limit).toBe(20);
    fill(limit, 20);
    expect(limit.refusal()).toBeDefined(); // a refused arrival counts as reaching it
    limit.adjust(0.5);
    expect(limit.limit).toBe(24); // 20 + √20
    fill(limit, 4);
    limit.adjust(0);
    expect(limit.limit).toBe(29); // 24.5 + √24.5
    fill(limit, 5);
    limit.adjust(0);
    expect(limit.limit).toBe(30); // capped
  });

  it('a call that missed its budget backs the limit off at once', () => {
    const limit = limitOf({ initialLimit: 50 });
    const [permit] = fill(limit, 1);
    permit!.release('dropped', 120);
    expect(limit.limit).toBe(45);
    expect(limit.inflight).toBe(0);
  });

  it('learns the latency of admitted work, not of ignored calls', () => {
    const limit = limitOf();
    fill(limit, 1)[0]!.release('success', 10);
    fill(limit, 1)[0]!.release('ignore', 500);
    expect(limit.expectedLatencyMs).toBe(10);
    fill(limit, 1)[0]!.release('success', 20);
    expect(limit.expectedLatencyMs).toBeCloseTo(11);
  });

  it('shrinks on its own when the real event loop is blocked, and recovers when it is free', async () => {
    const limit = new QueueTimeLimit({ initialLimit: 64, targetQueueMs: 2, intervalMs: 20 });
    limits.push(limit);
    const busyUntil = Date.now() + 300;
    // Block the loop in 15 ms slices: every callback waits ~15 ms.
    await new Promise<void>((resolve) => {
      const tick = () => {
        const end = Date.now() + 15;
        while (Date.now() < end);
        if (Date.now() < busyUntil) setImmediate(tick);
        else resolve();
      };
      tick();
    });
    await new Promise((r) => setTimeout(r, 30));
    expect(limit.limit).toBeLessThan(40);
    expect(limit.queueMs).toBeGreaterThanOrEqual(0);
  });
});

describe('eventLoopQueueTime', () => {
  it('reads near 0 on an idle loop and the waiting time on a blocked one', async () => {
    const probe = eventLoopQueueTime(5);
    try {
      await new Promise((r) => setTimeout(r, 100));
      expect(probe.read()).toBeLessThan(3);
      const end = Date.now() + 60;
      while (Date.now() < end);
      await new Promise((r) => setTimeout(r, 20));
      expect(probe.read()).toBeGreaterThan(5);
    } finally {
      probe.stop();
    }
  });
});

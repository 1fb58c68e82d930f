import { afterEach, describe, expect, it } from 'vitest';
import { QueueTimeLimit, type Permit } from './queue-time-limit.js';
import { eventLoopQueueTime, type QueueTimeProbe } from './queue-time.js';

/** A probe the test sets; the limit's own timer never fires within a test (interval 1 h). */
const quietProbe: QueueTimeProbe = { read: () => 0, stop: () => {} };
const limits: QueueTimeLimit[] = [];
function limitOf(options: ConstructorParameters<typeof QueueTimeLimit>[0] = {}): QueueTimeLimit {
  const limit = new QueueTimeLimit({
    probe: quietProbe,
    intervalMs: 3_600_000,
    sustainIntervals: 2,
    ...options,
  });
  limits.push(limit);
  return limit;
}
afterEach(() => limits.splice(0).forEach((l) => l.stop()));

function fill(limit: QueueTimeLimit, n: number): Permit[] {
  return Array.from({ length: n }, () => limit.tryAcquire() as Permit);
}

/** One control step of an interval in which the limit was reached (calls were refused). */
function pressed(limit: QueueTimeLimit, queueMs: number, busy = 1): void {
  const held = fill(limit, Math.max(0, limit.limit - limit.inflight));
  limit.refusal();
  for (const permit of held) permit.release('ignore', 0);
  limit.adjust(queueMs, busy);
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

  it('cuts the limit in proportion to the queueing time, 10–20% a step, once it lasts', () => {
    const limit = limitOf({ initialLimit: 100, targetQueueMs: 2, sustainIntervals: 2 });
    pressed(limit, 2.35);
    expect(limit.limit).toBe(100); // one interval above the target: a stall, not overload
    pressed(limit, 2.35); // two in a row: 2 / 2.35 = 0.85
    expect(limit.limit).toBe(85);
    pressed(limit, 40); // 2 / 40 would be 0.05: at most 20% off in one step
    expect(limit.limit).toBe(68);
    pressed(limit, 2.1); // just above: at least 10% off
    expect(limit.limit).toBe(61);
  });

  it('does not cut a limit that is not reached: a burst the process works off refuses nothing', () => {
    const limit = limitOf({ initialLimit: 50, targetQueueMs: 2 });
    fill(limit, 30); // 30 of 50 in flight: slow calls piling up after a peer died
    for (let i = 0; i < 10; i++) limit.adjust(30, 1);
    expect(limit.limit).toBe(50);
    pressed(limit, 30); // the queue has lasted: once the limit is reached, it is cut
    expect(limit.limit).toBe(40);
  });

  it('cuts a limit that is not reached once the loop has been jammed for long: the calls wait before their handlers', () => {
    const limit = limitOf({ initialLimit: 256, jamIntervals: 8, jamShare: 0.75 });
    const held = fill(limit, 12); // the most in flight: the rest wait on the jammed loop
    held.splice(0, 4).forEach((p) => p.release('success', 20));
    for (let i = 0; i < 5; i++) limit.adjust(100, 1);
    limit.adjust(1, 1); // a short wait between stalls does not end a jam
    limit.adjust(30, 1);
    expect(limit.limit).toBe(256); // 7 intervals: not a window yet
    limit.adjust(30, 1); // 7 of 8 jammed: below the 8 in flight now, 20% off
    expect(limit.limit).toBe(6);
    expect(limit.refusal()).toMatch(/8 requests in flight \(limit 6/);
  });

  it('tells whether its process queued lately (its own overload), busy and above the target', () => {
    const limit = limitOf({ targetQueueMs: 2 });
    expect(limit.queuedWithin(500)).toBe(false);
    limit.adjust(30, 0.5); // time to spare: a burst
    limit.adjust(1, 1);
    expect(limit.queuedWithin(500)).toBe(false);
    limit.adjust(30, 1);
    limit.adjust(0, 0.1); // and it stays so for the time asked
    expect(limit.queuedWithin(500)).toBe(true);
  });

  it('a short jam, one long stall, or a queue with time to spare is no jam', () => {
    const limit = limitOf({ initialLimit: 256, jamIntervals: 8, jamShare: 0.75 });
    fill(limit, 10);
    for (let i = 0; i < 20; i++) limit.adjust(100, 0.6); // not busy: the CPU is elsewhere
    limit.adjust(1000, 1); // one interval stalled for a second
    for (let i = 0; i < 5; i++) limit.adjust(0.5, 1);
    for (let i = 0; i < 5; i++) limit.adjust(i === 2 ? 0.5 : 60, 1); // a burst: 5 of the last 8
    expect(limit.limit).toBe(256);
  });

  it('does not cut for a queue in a process that has time to spare (a burst, not overload)', () => {
    const limit = limitOf({ initialLimit: 50, targetQueueMs: 2, busyUtilization: 0.9 });
    for (let i = 0; i < 5; i++) pressed(limit, 30, 0.6);
    expect(limit.limit).toBe(55); // reached with time to spare: it grows, one a step
    pressed(limit, 30, 0.95);
    pressed(limit, 30, 0.95);
    expect(limit.limit).toBe(44);
  });

  it('never goes below its minimum', () => {
    const limit = limitOf({ initialLimit: 10, minLimit: 8, targetQueueMs: 1 });
    for (let i = 0; i < 10; i++) pressed(limit, 50);
    expect(limit.limit).toBe(8);
  });

  it('returns to its resting limit once the queue stays short, used or not', () => {
    const limit = limitOf({ initialLimit: 40, minLimit: 4, targetQueueMs: 2 });
    for (let i = 0; i < 30; i++) pressed(limit, 50);
    expect(limit.limit).toBe(4);
    limit.adjust(0);
    expect(limit.limit).toBe(4); // one short interval: not yet
    const seen: number[] = [];
    for (let i = 0; i < 12; i++) {
      limit.adjust(0);
      seen.push(limit.limit);
    }
    expect(seen).toEqual([6, 8, 11, 15, 20, 26, 34, 40, 40, 40, 40, 40]); // ×1.25 + 1, capped
  });

  it('grows beyond the resting limit by one per interval, only while it is reached', () => {
    const limit = limitOf({ initialLimit: 10, maxLimit: 12, targetQueueMs: 5 });
    limit.adjust(0);
    limit.adjust(0);
    expect(limit.limit).toBe(10); // not in use: nothing learnt
    fill(limit, 10); // 10 of 10: reached
    limit.adjust(1);
    expect(limit.limit).toBe(11);
    limit.adjust(1); // 10 of 11: not reached since
    expect(limit.limit).toBe(11);
    fill(limit, 1);
    expect(limit.refusal()).toBeDefined(); // a refused arrival counts as reaching it
    limit.adjust(0);
    expect(limit.limit).toBe(12);
    fill(limit, 1);
    limit.adjust(0);
    expect(limit.limit).toBe(12); // capped
    pressed(limit, 6);
    pressed(limit, 6); // reached, but queueing above the 5 ms target for two intervals: cut by 5/6
    expect(limit.limit).toBe(10);
  });

  describe('with a latency target', () => {
    /** Calls ending in this interval, each having taken `ms`. */
    function end(limit: QueueTimeLimit, n: number, ms: number): void {
      for (const permit of fill(limit, n)) permit.release('success', ms);
    }

    it('learns the baseline from intervals when the process is not busy', () => {
      const limit = limitOf({ initialLimit: 50, latencyTarget: 2, baselineUtilization: 0.5 });
      end(limit, 5, 3);
      limit.adjust(0, 0.2);
      expect(limit.baselineLatencyMs).toBe(3);
      expect(limit.latencyMs).toBe(3);
      end(limit, 5, 40); // busy: overload or not, this is not the unloaded latency
      limit.adjust(0, 0.7);
      expect(limit.baselineLatencyMs).toBe(3);
      expect(limit.latencyMs).toBe(40);
      end(limit, 2, 3); // too few calls to say anything
      limit.adjust(0, 0.2);
      expect(limit.latencyMs).toBe(0);
      expect(limit.baselineLatencyMs).toBe(3);
    });

    it('cuts the limit when admitted work is slower than the target while busy, with a short queue', () => {
      const limit = limitOf({ initialLimit: 50, latencyTarget: 2, sustainIntervals: 2 });
      end(limit, 5, 4);
      limit.adjust(0, 0.1); // baseline 4 ms: target 8 ms
      end(limit, 5, 9);
      pressed(limit, 0.5, 0.95);
      expect(limit.limit).toBe(50); // one interval above: a stall
      end(limit, 5, 9);
      pressed(limit, 0.5, 0.95); // 8 / 9 = 0.89
      expect(limit.limit).toBe(44);
      end(limit, 5, 30);
      pressed(limit, 0.5, 0.95); // at most 20% off in one step
      expect(limit.limit).toBe(35);
      end(limit, 5, 30);
      pressed(limit, 0.5, 0.5); // slow, but the process has time to spare: a burst, not overload
      expect(limit.limit).toBe(36);
      end(limit, 5, 7);
      pressed(limit, 0.5, 0.95); // within the target and reached: grows
      expect(limit.limit).toBe(37);
    });

    it('slow calls below the limit (a peer dying, a reconnect) cut nothing', () => {
      const limit = limitOf({ initialLimit: 50, latencyTarget: 2, sustainIntervals: 2 });
      end(limit, 5, 4);
      limit.adjust(0, 0.1);
      for (let i = 0; i < 10; i++) {
        end(limit, 5, 40);
        limit.adjust(0, 1);
      }
      expect(limit.limit).toBe(50);
      end(limit, 5, 40);
      pressed(limit, 0, 1);
      expect(limit.limit).toBe(40);
    });

    it('without a baseline, or with the target off, latency moves nothing', () => {
      for (const options of [{ latencyTarget: 2 }, { latencyTarget: 0 }]) {
        const limit = limitOf({ initialLimit: 50, sustainIntervals: 1, ...options });
        if (options.latencyTarget === 0) {
          end(limit, 5, 1);
          limit.adjust(0, 0.1);
        }
        end(limit, 5, 500);
        pressed(limit, 0, 1);
        expect(limit.limit).toBe(51); // reached with a short queue: not cut, one more
      }
    });
  });

  it('a call that missed its budget does not move the limit: only a lasting queue does', () => {
    const limit = limitOf({ initialLimit: 50 });
    for (const permit of fill(limit, 10)) permit.release('dropped', 120);
    expect(limit.limit).toBe(50);
    expect(limit.inflight).toBe(0);
    expect(limit.expectedLatencyMs).toBe(0);
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
    const held = fill(limit, 64); // every permit taken: the limit is reached
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
    for (const permit of held) permit.release('ignore', 0);
    await new Promise((r) => setTimeout(r, 600)); // a free loop: back to the resting limit
    expect(limit.queueMs).toBeLessThan(2);
    expect(limit.limit).toBe(64);
  });
});

describe('eventLoopQueueTime', () => {
  const idle = (ms: number) => new Promise((r) => setTimeout(r, ms));
  /** Keeps the loop busy in `sliceMs` slices for `totalMs`: every callback waits ~a slice. */
  const busy = (sliceMs: number, totalMs: number) =>
    new Promise<void>((resolve) => {
      const until = Date.now() + totalMs;
      const tick = () => {
        const end = Date.now() + sliceMs;
        while (Date.now() < end);
        if (Date.now() < until) setImmediate(tick);
        else resolve();
      };
      tick();
    });

  it('reads near 0 on an idle loop and the waiting time while the loop stays busy', async () => {
    const probe = eventLoopQueueTime(2);
    try {
      await idle(100);
      expect(probe.read()).toBeLessThan(2);
      expect(probe.busy?.()).toBeLessThan(0.5);
      await busy(10, 200);
      expect(probe.read()).toBeGreaterThan(5);
      expect(probe.busy?.()).toBeGreaterThan(0.8);
    } finally {
      probe.stop();
    }
  });

  it('does not read one stall among idle time as a standing queue', async () => {
    const probe = eventLoopQueueTime(2);
    try {
      await idle(20);
      probe.read();
      await busy(30, 1);
      await idle(80);
      expect(probe.read()).toBeLessThan(2);
    } finally {
      probe.stop();
    }
  });

  it('reads a loop blocked for the whole interval as queued that long', async () => {
    const probe = eventLoopQueueTime(2);
    try {
      probe.read();
      await busy(120, 1);
      expect(probe.read()).toBeGreaterThan(100);
    } finally {
      probe.stop();
    }
  });
});

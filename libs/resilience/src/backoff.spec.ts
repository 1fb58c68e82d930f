import { describe, expect, it } from 'vitest';
import { backoffDelay, pause } from './backoff.js';

describe('backoffDelay', () => {
  it('doubles from the initial delay and stops at the maximum', () => {
    const options = { initialMs: 100, maxMs: 1_000 };
    expect([1, 2, 3, 4, 5, 40].map((attempt) => backoffDelay(options, attempt))).toEqual([
      100, 200, 400, 800, 1_000, 1_000,
    ]);
  });

  it('with jitter, spreads each delay over half to all of its value', () => {
    const options = { initialMs: 100, maxMs: 1_000, jitter: true };
    expect(backoffDelay(options, 3, () => 0)).toBe(200);
    expect(backoffDelay(options, 3, () => 0.999_999)).toBeCloseTo(400, 3);
  });
});

describe('pause', () => {
  it('resolves early when its signal aborts', async () => {
    const stop = new AbortController();
    const started = performance.now();
    setTimeout(() => stop.abort(), 10);
    await pause(10_000, stop.signal);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('resolves at once on an aborted signal', async () => {
    const started = performance.now();
    await pause(10_000, AbortSignal.abort());
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

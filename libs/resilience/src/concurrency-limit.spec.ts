import { describe, expect, it } from 'vitest';
import { AdaptiveConcurrencyLimit, type Permit } from './concurrency-limit.js';

describe('AdaptiveConcurrencyLimit', () => {
  it('refuses at once above the limit, with the reason', () => {
    const limit = new AdaptiveConcurrencyLimit({ initialLimit: 2 });
    expect(limit.tryAcquire().refused).toBe(false);
    expect(limit.tryAcquire().refused).toBe(false);
    const third = limit.tryAcquire();
    expect(third).toMatchObject({ refused: true, reason: expect.stringMatching(/limit 2/) });
  });

  it('refuses a request whose budget is smaller than the time the work takes now', () => {
    const limit = new AdaptiveConcurrencyLimit();
    const permit = limit.tryAcquire() as Permit;
    permit.release('success', 20);
    expect(limit.tryAcquire(5)).toMatchObject({
      refused: true,
      reason: expect.stringMatching(/budget/),
    });
    expect(limit.tryAcquire(50).refused).toBe(false);
  });

  it('grows while latency stays flat and shrinks when latency climbs or work is dropped', () => {
    const limit = new AdaptiveConcurrencyLimit({ initialLimit: 10 });
    const cycle = (latencyMs: number, outcome: 'success' | 'dropped' = 'success') => {
      const permits = Array.from({ length: limit.limit }, () => limit.tryAcquire() as Permit);
      for (const p of permits) p.release(outcome, latencyMs);
    };
    for (let i = 0; i < 5; i++) cycle(2);
    const grown = limit.limit;
    expect(grown).toBeGreaterThan(10);
    cycle(20);
    expect(limit.limit).toBeLessThan(grown);
    const before = limit.limit;
    cycle(20, 'dropped');
    expect(limit.limit).toBeLessThan(before);
    expect(limit.inflight).toBe(0);
  });
});

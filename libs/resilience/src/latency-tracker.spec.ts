import { describe, expect, it } from 'vitest';
import { LatencyTracker } from './latency-tracker.js';

describe('LatencyTracker', () => {
  it('reports the p95 of the window within 4%', () => {
    const tracker = new LatencyTracker({ minSamples: 1 });
    for (let i = 1; i <= 1000; i++) tracker.record('m@a', i / 10, 0);
    const p95 = tracker.p95('m@a', 0)!;
    expect(p95).toBeGreaterThanOrEqual(95);
    expect(p95).toBeLessThanOrEqual(95 * 1.04);
  });

  it('reports nothing until enough samples were seen', () => {
    const tracker = new LatencyTracker({ minSamples: 20 });
    for (let i = 0; i < 19; i++) tracker.record('m@a', 5, 0);
    expect(tracker.p95('m@a', 0)).toBeUndefined();
    tracker.record('m@a', 5, 0);
    expect(tracker.p95('m@a', 0)).toBeCloseTo(5, 0);
  });

  it('keeps keys apart and forgets samples older than the window', () => {
    const tracker = new LatencyTracker({ windowMs: 1_000, slices: 10, minSamples: 1 });
    for (let i = 0; i < 100; i++) tracker.record('slow@a', 50, 0);
    for (let i = 0; i < 100; i++) tracker.record('fast@a', 1, 0);
    expect(tracker.p95('slow@a', 0)).toBeGreaterThan(40);
    expect(tracker.p95('fast@a', 0)).toBeLessThan(1.1);
    for (let i = 0; i < 100; i++) tracker.record('slow@a', 2, 1_500);
    expect(tracker.count('slow@a', 1_500)).toBe(100);
    expect(tracker.p95('slow@a', 1_500)).toBeLessThan(2.1);
    expect(tracker.count('slow@a', 60_000)).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import { installTelemetryForTests } from '@scoregate/telemetry/testing';
import { aheadOfClockReason, ClockSkewGuard, describeSkew } from './clock-skew-guard.js';

const telemetry = installTelemetryForTests();
const T0 = Date.UTC(2026, 11, 7, 12);

function guardAt(toleranceMs = 5_000) {
  const clock = { now: T0 };
  return {
    clock,
    guard: new ClockSkewGuard({
      meter: '@scoregate/feature-service',
      metricPrefix: 'scoregate.feature',
      item: 'row',
      toleranceMs,
      now: () => clock.now,
    }),
  };
}

async function offsetGauge(source: string): Promise<number[]> {
  return (await telemetry.collect('scoregate.feature.producer_clock_offset'))
    .filter((p) => p.attributes['source'] === source)
    .map((p) => p.value);
}

describe('ClockSkewGuard', () => {
  it('returns the first row further ahead than the tolerance, and none for rows at or within it', () => {
    const { guard } = guardAt();
    expect(guard.check([T0 - 60_000, T0, T0 + 5_000], 'a', { path: 'rpc' })).toBeUndefined();
    expect(guard.check([T0, T0 + 5_001, T0 + 9_000], 'a', { path: 'rpc' })).toEqual({
      index: 1,
      aheadMs: 5_001,
    });
  });

  it('counts refused requests by source and path', async () => {
    const { guard } = guardAt();
    guard.check([T0 + 10_000], 'count-src', { path: 'rpc' });
    guard.check([T0 + 10_000, T0 + 20_000], 'count-src', { path: 'stream' });
    guard.check([T0 + 10_000], 'count-src', { path: 'stream' });
    guard.check([T0], 'count-src', { path: 'stream' });
    const points = (await telemetry.collect('scoregate.feature.clock_skew.refused')).filter(
      (p) => p.attributes['source'] === 'count-src',
    );
    expect(points.map((p) => [p.attributes['path'], p.value]).sort()).toEqual([
      ['rpc', 1],
      ['stream', 2],
    ]);
  });

  it("estimates a source's offset as its largest lead over the clock in the last minute, forgetting older ones", async () => {
    const { clock, guard } = guardAt();
    // A producer 3 s fast whose events take 0.2–2 s to arrive: the freshest says +2.8 s.
    for (const delay of [2_000, 200, 900])
      guard.check([clock.now + 3_000 - delay], 'fast', { path: 'rpc' });
    expect(guard.offsetMs('fast')).toBe(2_800);
    expect(await offsetGauge('fast')).toEqual([2.8]);
    // A true clock: at most 0, minus the freshest delay.
    guard.check([clock.now - 150, clock.now - 40], 'true', { path: 'stream' });
    expect(guard.offsetMs('true')).toBe(-40);
    // A lead is kept for its minute and the next one, then newer events decide...
    clock.now += 61_000;
    guard.check([clock.now - 500], 'fast', { path: 'rpc' });
    expect(guard.offsetMs('fast')).toBe(2_800);
    clock.now += 60_000;
    expect(guard.offsetMs('fast')).toBe(-500);
    // ...and with none for longer, the last estimate stands (the clock did not change by going quiet).
    clock.now += 120_000;
    expect(guard.offsetMs('fast')).toBe(-500);
    expect(await offsetGauge('fast')).toEqual([-0.5]);
    clock.now += 1_000;
    guard.check([clock.now + 700], 'fast', { path: 'rpc' });
    expect(guard.offsetMs('fast')).toBe(700);
    expect(guard.offsetMs('never-seen')).toBeUndefined();
  });

  it('names no more than 100 sources: the rest, unnamed ones included, count as "other"', async () => {
    const { guard } = guardAt();
    for (let i = 0; i < 120; i++) guard.check([T0 + 60_000], `src-${i}`, { path: 'rpc' });
    guard.check([T0 + 60_000], '', { path: 'rpc' });
    const points = await telemetry.collect('scoregate.feature.clock_skew.refused');
    const sources = new Set(points.map((p) => p.attributes['source']));
    expect(sources.has('src-99')).toBe(true);
    expect(sources.has('src-100')).toBe(false);
    expect(points.find((p) => p.attributes['source'] === 'other')?.value).toBe(21);
    expect(guard.offsetMs('src-119')).toBe(60_000); // read as "other"
  });
});

describe('describeSkew', () => {
  it.each([
    [40, '40 ms'],
    [6_000, '6.0 s'],
    [59_990, '1 min 0 s'],
    [3_599_980, '1 h 0 min'],
    [125_000, '2 min 5 s'],
    [3_600_000, '1 h 0 min'],
    [5 * 86_400_000, '5 days'],
  ])('%d ms → %s', (ms, text) => expect(describeSkew(ms)).toBe(text));
});

describe('aheadOfClockReason', () => {
  it('names the skew, the tolerance, whose clock, what a future time would do and the source', () => {
    expect(
      aheadOfClockReason(
        { aheadMs: 3_600_000, toleranceMs: 5_000, source: 'labels' },
        'retrain-service',
        'it would count in windows it does not belong to',
      ),
    ).toBe(
      `is 1 h 0 min ahead of the retrain-service's clock (tolerance 5.0 s): it would count in windows it does not belong to; check the clock of source "labels" (NTP)`,
    );
    expect(
      aheadOfClockReason({ aheadMs: 9_000, toleranceMs: 5_000, source: '' }, 'x', 'y'),
    ).toContain('check the clock of the producer (NTP)');
  });
});

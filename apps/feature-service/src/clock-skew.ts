import { env } from '@scoregate/config';
import { getMeter } from '@scoregate/telemetry';

/** Event times up to this far ahead of the receiving clock are accepted unless told otherwise. */
export const DEFAULT_CLOCK_SKEW_TOLERANCE_MS = 5_000;
/** The tolerance, from the environment (feature-service and ingestor). */
export const clockSkewEnv = {
  FEATURE_CLOCK_SKEW_TOLERANCE_MS: env.millis(DEFAULT_CLOCK_SKEW_TOLERANCE_MS),
};
/** The producer clock offset is estimated over this much of the recent past. */
const OFFSET_WINDOW_MS = 60_000;
/** Sources tracked by name; past this many, new ones count under {@link OTHER_SOURCES}. */
const MAX_SOURCES = 100;
/** Where rows with no source say where they came from. */
export const UNNAMED_SOURCE = 'unnamed';
const OTHER_SOURCES = 'other';

/** Which way the rows arrived: a WriteFeatures call or a FeatureUpdated event. */
export type WritePath = 'rpc' | 'stream';

/** A row stamped too far ahead of this clock. */
export interface AheadOfClock {
  /** Its index among the rows checked. */
  readonly index: number;
  /** How far its event time is ahead of this clock (ms). */
  readonly aheadMs: number;
}

export interface ClockSkewGuardOptions {
  /** How far ahead of this clock an event time may be (ms). */
  readonly toleranceMs?: number;
  /** This process's clock (epoch ms). */
  readonly now?: () => number;
}

/** The newest lead of a source's event times over this clock: this window's and the last one's. */
interface OffsetWindows {
  startMs: number;
  current: number;
  previous: number;
  /** The estimate when both windows are empty: the last one there was. */
  lastKnown: number;
}

/**
 * Guards the store against producer clocks that run fast. A value stamped in the future would win
 * every later write (the newest event time wins) and never turn STALE; so a row whose event time
 * is more than the tolerance ahead of this clock is refused, and counted per source
 * (`scoregate.feature.clock_skew.refused`).
 *
 * It also estimates each source's clock offset (`scoregate.feature.producer_clock_offset`, s): the
 * largest `event time - time received` seen in the last minute (when nothing came in it, the
 * last such figure). A value is never received before it was true at the source, so with a true
 * clock this is at most 0 — minus the freshest event's delay, which is small under steady
 * traffic; a positive figure is a clock ahead by at least that.
 */
export class ClockSkewGuard {
  readonly toleranceMs: number;
  private readonly now: () => number;
  private readonly offsets = new Map<string, OffsetWindows>();
  private readonly refused = getMeter('@scoregate/feature-service').createCounter(
    'scoregate.feature.clock_skew.refused',
    {
      description: 'Rows refused because their event time was ahead of the clock, by source',
      unit: '{row}',
    },
  );

  constructor(options: ClockSkewGuardOptions = {}) {
    this.toleranceMs = options.toleranceMs ?? DEFAULT_CLOCK_SKEW_TOLERANCE_MS;
    this.now = options.now ?? Date.now;
    getMeter('@scoregate/feature-service')
      .createObservableGauge('scoregate.feature.producer_clock_offset', {
        description:
          "Estimated clock offset of each source: the largest event time minus time received in the last minute with events (> 0: the source's clock is ahead)",
        unit: 's',
      })
      .addCallback((result) => {
        const now = this.now();
        for (const [source, windows] of this.offsets) {
          result.observe(this.leadOf(windows, now) / 1_000, { source });
        }
      });
  }

  /**
   * Records the event times of rows received now from `source` and returns the first one stamped
   * more than the tolerance ahead of this clock, counting it, or undefined when none is.
   */
  check(
    eventTimesMs: readonly number[],
    source: string,
    path: WritePath,
  ): AheadOfClock | undefined {
    const now = this.now();
    const name = this.sourceName(source);
    let first: AheadOfClock | undefined;
    let lead = -Infinity;
    eventTimesMs.forEach((eventTimeMs, index) => {
      const aheadMs = eventTimeMs - now;
      if (aheadMs > lead) lead = aheadMs;
      if (first === undefined && aheadMs > this.toleranceMs) first = { index, aheadMs };
    });
    this.record(name, lead, now);
    if (first !== undefined) this.refused.add(1, { source: name, path });
    return first;
  }

  /** The estimated clock offset of `source` (ms), or undefined when nothing came from it. */
  offsetMs(source: string): number | undefined {
    const windows = this.offsets.get(this.sourceName(source));
    return windows && this.leadOf(windows, this.now());
  }

  private record(name: string, lead: number, now: number): void {
    if (lead === -Infinity) return;
    let windows = this.offsets.get(name);
    if (windows === undefined) {
      windows = { startMs: now, current: -Infinity, previous: -Infinity, lastKnown: lead };
      this.offsets.set(name, windows);
    }
    this.roll(windows, now);
    if (lead > windows.current) windows.current = lead;
  }

  private leadOf(windows: OffsetWindows, now: number): number {
    this.roll(windows, now);
    const lead = Math.max(windows.current, windows.previous);
    if (lead !== -Infinity) windows.lastKnown = lead;
    return windows.lastKnown;
  }

  /** Starts a new window when the current one is over (two when both are). */
  private roll(windows: OffsetWindows, now: number): void {
    const elapsed = now - windows.startMs;
    if (elapsed < OFFSET_WINDOW_MS) return;
    windows.previous = elapsed < 2 * OFFSET_WINDOW_MS ? windows.current : -Infinity;
    windows.current = -Infinity;
    windows.startMs = now - (elapsed % OFFSET_WINDOW_MS);
  }

  /** The source as counted: named, or unnamed, or one of too many. */
  private sourceName(source: string): string {
    const name = source === '' ? UNNAMED_SOURCE : source;
    if (this.offsets.has(name) || this.offsets.size < MAX_SOURCES) return name;
    return OTHER_SOURCES;
  }
}

/** Why a row stamped ahead of the clock is refused, and what to do (for an error or a dead letter). */
export function aheadOfClockReason(aheadMs: number, toleranceMs: number, source: string): string {
  const who = source === '' ? 'the producer' : `source ${JSON.stringify(source.slice(0, 80))}`;
  return (
    `is ${describeSkew(aheadMs)} ahead of the feature-service's clock (tolerance ` +
    `${describeSkew(toleranceMs)}): a value stamped in the future would win every later write ` +
    `and never turn STALE; check the clock of ${who} (NTP)`
  );
}

/** "1 h 2 min", "3.4 s"-style text for a skew, each unit rounded before it is split. */
export function describeSkew(ms: number): string {
  if (ms < 999.5) return `${Math.round(ms)} ms`;
  if (ms < 59_950) return `${(ms / 1_000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1_000);
  if (seconds < 3_600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  const minutes = Math.round(ms / 60_000);
  if (minutes < 48 * 60) return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
  return `${Math.round(ms / 86_400_000)} days`;
}

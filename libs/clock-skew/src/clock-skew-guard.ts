import { getMeter } from '@scoregate/telemetry';

/** Event times up to this far ahead of the receiving clock are accepted unless told otherwise. */
export const DEFAULT_CLOCK_SKEW_TOLERANCE_MS = 5_000;
/** The producer clock offset is estimated over this much of the recent past. */
const OFFSET_WINDOW_MS = 60_000;
/** Sources tracked by name; past this many, new ones count under {@link OTHER_SOURCES}. */
const MAX_SOURCES = 100;
/** Where rows with no source say where they came from. */
export const UNNAMED_SOURCE = 'unnamed';
const OTHER_SOURCES = 'other';

/** A row stamped too far ahead of this clock. */
export interface AheadOfClock {
  /** Its index among the rows checked. */
  readonly index: number;
  /** How far its event time is ahead of this clock (ms). */
  readonly aheadMs: number;
}

export interface ClockSkewGuardOptions {
  /** The meter the metrics belong to, e.g. `@scoregate/feature-service`. */
  readonly meter: string;
  /**
   * The metrics' common prefix, e.g. `scoregate.feature`: `<prefix>.clock_skew.refused` counts
   * refusals by source, `<prefix>.producer_clock_offset` is each source's estimated offset.
   */
  readonly metricPrefix: string;
  /** What is refused, plural, for the metric's description and unit, e.g. `row`. */
  readonly item: string;
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
 * Guards a store against producer clocks that run fast (a feature value stamped in the future
 * would win every later write and never turn STALE; an outcome stamped in the future would sit
 * in every time window it should not). An event whose time is more than the tolerance ahead of
 * this clock is refused by the caller, and counted per source (`<prefix>.clock_skew.refused`).
 *
 * It also estimates each source's clock offset (`<prefix>.producer_clock_offset`, s): the
 * largest `event time - time received` seen in the last minute (when nothing came in it, the
 * last such figure). A value is never received before it was true at the source, so with a true
 * clock this is at most 0 — minus the freshest event's delay, which is small under steady
 * traffic; a positive figure is a clock ahead by at least that.
 */
export class ClockSkewGuard {
  readonly toleranceMs: number;
  private readonly now: () => number;
  private readonly offsets = new Map<string, OffsetWindows>();
  private readonly refused: ReturnType<ReturnType<typeof getMeter>['createCounter']>;

  constructor(options: ClockSkewGuardOptions) {
    this.toleranceMs = options.toleranceMs ?? DEFAULT_CLOCK_SKEW_TOLERANCE_MS;
    this.now = options.now ?? Date.now;
    const meter = getMeter(options.meter);
    this.refused = meter.createCounter(`${options.metricPrefix}.clock_skew.refused`, {
      description: `Each ${options.item} refused because its event time was ahead of the clock, by source`,
      unit: `{${options.item}}`,
    });
    meter
      .createObservableGauge(`${options.metricPrefix}.producer_clock_offset`, {
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
   * Records the event times of items received now from `source` and returns the first one stamped
   * more than the tolerance ahead of this clock, counting it (with `attributes` besides the
   * source), or undefined when none is.
   */
  check(
    eventTimesMs: readonly number[],
    source: string,
    attributes: Readonly<Record<string, string>> = {},
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
    if (first !== undefined) this.refused.add(1, { ...attributes, source: name });
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

/**
 * Why an event stamped ahead of the clock is refused, and what to do (for an error or a dead
 * letter): `receiver` is whose clock it is, `consequence` what a future time would do.
 */
export function aheadOfClockReason(
  ahead: { readonly aheadMs: number; readonly toleranceMs: number; readonly source: string },
  receiver: string,
  consequence: string,
): string {
  const { source } = ahead;
  const who = source === '' ? 'the producer' : `source ${JSON.stringify(source.slice(0, 80))}`;
  return (
    `is ${describeSkew(ahead.aheadMs)} ahead of the ${receiver}'s clock (tolerance ` +
    `${describeSkew(ahead.toleranceMs)}): ${consequence}; check the clock of ${who} (NTP)`
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

import { nowMs } from './clock.js';

export interface LatencyTrackerOptions {
  /** Length of the rolling window (ms). Default 10 s. */
  readonly windowMs?: number;
  /** Number of slices the window rotates through. Default 10. */
  readonly slices?: number;
  /** Fewer samples than this in the window: no percentile is reported. Default 20. */
  readonly minSamples?: number;
}

// Log-spaced buckets, 4% apart, from 10 µs to ~2 min: percentiles within 4% of the true value.
const MIN_MS = 0.01;
const GROWTH = 1.04;
const LOG_GROWTH = Math.log(GROWTH);
const BUCKETS = Math.ceil(Math.log(120_000 / MIN_MS) / LOG_GROWTH) + 1;

function bucketOf(ms: number): number {
  if (!(ms > MIN_MS)) return 0;
  return Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / MIN_MS) / LOG_GROWTH));
}

function upperBoundOf(bucket: number): number {
  return MIN_MS * GROWTH ** bucket;
}

class Window {
  private readonly slices: Uint32Array[];
  private readonly sliceStarts: number[];
  private current = 0;

  constructor(
    private readonly sliceMs: number,
    count: number,
    now: number,
  ) {
    this.slices = Array.from({ length: count }, () => new Uint32Array(BUCKETS));
    this.sliceStarts = Array.from({ length: count }, () => -Infinity);
    this.sliceStarts[0] = now;
  }

  private rotate(now: number): void {
    // Idle for a whole window: everything is old.
    if (now - this.sliceStarts[this.current]! >= this.sliceMs * this.slices.length) {
      for (const slice of this.slices) slice.fill(0);
      this.sliceStarts[this.current] = now;
      return;
    }
    while (now - this.sliceStarts[this.current]! >= this.sliceMs) {
      const start = this.sliceStarts[this.current]! + this.sliceMs;
      this.current = (this.current + 1) % this.slices.length;
      this.slices[this.current]!.fill(0);
      this.sliceStarts[this.current] = start;
    }
  }

  record(ms: number, now: number): void {
    this.rotate(now);
    this.slices[this.current]![bucketOf(ms)]! += 1;
  }

  /** Merged histogram of the live slices and its total count. */
  merged(now: number): { counts: Uint32Array; total: number } {
    this.rotate(now);
    const counts = new Uint32Array(BUCKETS);
    let total = 0;
    for (const slice of this.slices) {
      for (let i = 0; i < BUCKETS; i++) {
        const c = slice[i]!;
        if (c) {
          counts[i]! += c;
          total += c;
        }
      }
    }
    return { counts, total };
  }
}

/**
 * Rolling latency percentiles per key (e.g. `model@backend`), over a window made of rotating
 * slices of log-spaced histograms: recording is O(1), old samples age out slice by slice.
 */
export class LatencyTracker {
  private readonly windows = new Map<string, Window>();
  private readonly sliceMs: number;
  private readonly slices: number;
  private readonly minSamples: number;

  constructor(options: LatencyTrackerOptions = {}) {
    const windowMs = options.windowMs ?? 10_000;
    this.slices = options.slices ?? 10;
    this.sliceMs = windowMs / this.slices;
    this.minSamples = options.minSamples ?? 20;
  }

  record(key: string, ms: number, now = nowMs()): void {
    let window = this.windows.get(key);
    if (!window) {
      window = new Window(this.sliceMs, this.slices, now);
      this.windows.set(key, window);
    }
    window.record(ms, now);
  }

  /** Samples in the window for `key`. */
  count(key: string, now = nowMs()): number {
    return this.windows.get(key)?.merged(now).total ?? 0;
  }

  /**
   * The `q` quantile (0..1) of the latencies in the window, as the upper bound of its bucket
   * (so never an underestimate by more than rounding); undefined with too few samples.
   */
  quantile(key: string, q: number, now = nowMs()): number | undefined {
    const window = this.windows.get(key);
    if (!window) return undefined;
    const { counts, total } = window.merged(now);
    if (total < this.minSamples || total === 0) return undefined;
    const rank = Math.ceil(q * total);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += counts[i]!;
      if (seen >= rank) return upperBoundOf(i);
    }
    return upperBoundOf(BUCKETS - 1);
  }

  p95(key: string, now = nowMs()): number | undefined {
    return this.quantile(key, 0.95, now);
  }
}

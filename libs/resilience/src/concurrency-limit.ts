export interface ConcurrencyLimitOptions {
  /** Starting limit. Default 20. */
  readonly initialLimit?: number;
  readonly minLimit?: number;
  /** Default 1000. */
  readonly maxLimit?: number;
  /** Latency growth over the no-load latency tolerated before the limit shrinks. Default 2. */
  readonly tolerance?: number;
  /** Weight of each new limit estimate (0..1). Default 0.2. */
  readonly smoothing?: number;
  /** Samples the long-term (no-load) latency average spans. Default 500. */
  readonly longWindow?: number;
}

/** Why a request was refused. */
export interface Refusal {
  readonly refused: true;
  readonly reason: string;
}

/** Leave to run; give it back with the outcome. */
export interface Permit {
  readonly refused: false;
  /**
   * `latencyMs`: the time the work took. `dropped`: it failed from overload (deadline exceeded,
   * resource exhausted) — the limit backs off. `ignore`: do not learn from it (e.g. a bad request).
   */
  release(outcome: 'success' | 'dropped' | 'ignore', latencyMs: number): void;
}

/**
 * An adaptive concurrency limit in the style of Netflix's Gradient2: the limit follows
 * `limit × (tolerance × longRtt / rtt) + √limit`, so it grows while latency stays near its
 * no-load level and shrinks as soon as work starts queueing; a drop halves back multiplicatively.
 * Above the limit, and when the budget is smaller than the time the work is expected to take
 * now, a request is refused at once instead of being queued.
 */
export class AdaptiveConcurrencyLimit {
  private limitValue: number;
  private inflightValue = 0;
  private longRtt = 0;
  private recentRtt = 0;
  private samples = 0;
  private readonly min: number;
  private readonly max: number;
  private readonly tolerance: number;
  private readonly smoothing: number;
  private readonly longWindow: number;

  constructor(options: ConcurrencyLimitOptions = {}) {
    this.limitValue = options.initialLimit ?? 20;
    this.min = options.minLimit ?? 1;
    this.max = options.maxLimit ?? 1000;
    this.tolerance = options.tolerance ?? 2;
    this.smoothing = options.smoothing ?? 0.2;
    this.longWindow = options.longWindow ?? 500;
  }

  get limit(): number {
    return Math.floor(this.limitValue);
  }

  get inflight(): number {
    return this.inflightValue;
  }

  /** Recent latency of admitted work (ms), 0 before any sample. */
  get expectedLatencyMs(): number {
    return this.recentRtt;
  }

  /**
   * Admits the request or refuses it at once. `budgetMs`: the time it has; refused when the work
   * is expected to take longer (`expectedMs`, default the recent latency of admitted work).
   */
  tryAcquire(budgetMs = Infinity, expectedMs = this.recentRtt): Permit | Refusal {
    if (this.inflightValue >= this.limit) {
      return {
        refused: true,
        reason: `concurrency limit reached: ${this.inflightValue} requests in flight (limit ${this.limit})`,
      };
    }
    if (expectedMs > budgetMs) {
      return {
        refused: true,
        reason: `budget ${budgetMs.toFixed(1)} ms is smaller than the ${expectedMs.toFixed(1)} ms the work takes now`,
      };
    }
    this.inflightValue++;
    const inflightAtStart = this.inflightValue;
    let released = false;
    return {
      refused: false,
      release: (outcome, latencyMs) => {
        if (released) return;
        released = true;
        this.inflightValue--;
        if (outcome === 'ignore') return;
        this.update(outcome === 'dropped', latencyMs, inflightAtStart);
      },
    };
  }

  private update(dropped: boolean, rtt: number, inflight: number): void {
    if (dropped) {
      this.limitValue = Math.max(this.min, this.limitValue * 0.9);
      return;
    }
    const rttSample = Math.max(rtt, 0.001);
    this.samples++;
    // A plain mean over the first samples, then a slow exponential average.
    const longAlpha = this.samples <= 10 ? 1 / this.samples : 1 / this.longWindow;
    this.longRtt =
      this.samples === 1 ? rttSample : this.longRtt + (rttSample - this.longRtt) * longAlpha;
    this.recentRtt =
      this.samples === 1 ? rttSample : this.recentRtt + (rttSample - this.recentRtt) * 0.1;
    // Once latency has gone down a lot, forget the old long-term level quickly.
    if (this.longRtt / this.recentRtt > 2) this.longRtt *= 0.95;
    // App-limited: with less than half the limit in use, latency says nothing about the limit.
    if (inflight < this.limitValue / 2) return;
    const gradient = Math.max(0.5, Math.min(1, (this.tolerance * this.longRtt) / this.recentRtt));
    const queueSize = Math.sqrt(this.limitValue);
    const estimate = this.limitValue * gradient + queueSize;
    const next = this.limitValue * (1 - this.smoothing) + estimate * this.smoothing;
    this.limitValue = Math.max(this.min, Math.min(this.max, next));
  }
}

import { nowMs } from './clock.js';

/**
 * A latency budget for one request: a fixed end time, a reserve kept back for building and
 * sending the answer, and per-hop deadlines that leave room for the rest of the path.
 */
export class Budget {
  readonly startedAt: number;
  /** Epoch ms at which the whole budget is spent. */
  readonly endsAt: number;

  constructor(
    /** Total budget in ms. */
    readonly totalMs: number,
    /** Kept back from every downstream deadline so the answer itself fits (ms). */
    readonly reserveMs = 0,
    startedAt = nowMs(),
  ) {
    if (!(totalMs > 0)) throw new RangeError(`a budget must be positive, got ${totalMs} ms`);
    this.startedAt = startedAt;
    this.endsAt = startedAt + totalMs;
  }

  /** Milliseconds spent since the start. */
  elapsedMs(now = nowMs()): number {
    return now - this.startedAt;
  }

  /** Milliseconds left before the budget is spent (never negative). */
  remainingMs(now = nowMs()): number {
    return Math.max(0, this.endsAt - now);
  }

  /** Milliseconds a downstream hop may take now: remaining − reserve − what the rest needs. */
  hopMs(restNeedsMs = 0, now = nowMs()): number {
    return Math.max(0, this.endsAt - this.reserveMs - restNeedsMs - now);
  }

  /** Absolute deadline (epoch ms) for a downstream hop, leaving `restNeedsMs` for what follows. */
  hopDeadline(restNeedsMs = 0): number {
    return this.endsAt - this.reserveMs - restNeedsMs;
  }

  /** Whether a hop expected to take `expectedMs` still fits, leaving `restNeedsMs` after it. */
  fits(expectedMs: number, restNeedsMs = 0, now = nowMs()): boolean {
    return expectedMs <= this.hopMs(restNeedsMs, now);
  }

  /** True once nothing is left for a downstream hop. */
  exhausted(now = nowMs()): boolean {
    return this.hopMs(0, now) <= 0;
  }
}

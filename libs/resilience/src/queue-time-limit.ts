import { nowMs } from './clock.js';
import { eventLoopQueueTime, type QueueTimeProbe } from './queue-time.js';

/** Latencies kept per interval: enough for a median, bounded whatever the rate. */
const MAX_SAMPLES = 1024;
/** Fewer ended calls than this in an interval say nothing about its latency. */
const MIN_SAMPLES = 3;

/**
 * The resting concurrency limit unless one is given: far above what a healthy process holds at
 * its capacity (the gateway: ~1,000 calls/s × a few ms) and above what a short stall piles up, so
 * that only a real jam reaches it — and only a limit that is reached is cut.
 */
export const DEFAULT_RESTING_LIMIT = 256;

/** Why a request was refused. */
export interface Refusal {
  readonly refused: true;
  readonly reason: string;
}

/** Leave to run; give it back with the outcome. */
export interface Permit {
  readonly refused: false;
  /**
   * `latencyMs`: the time the work took. `dropped`: it failed or ran late (deadline exceeded,
   * resource exhausted) — its latency is not learnt; the limit itself follows the queue alone (a
   * dead peer makes calls miss their budget without any overload). `ignore`: do not learn from it
   * (e.g. a bad request).
   */
  release(outcome: 'success' | 'dropped' | 'ignore', latencyMs: number): void;
}

export interface QueueTimeLimitOptions {
  /**
   * Starting limit, and the resting one: while the queue stays short the limit returns to it
   * whether or not it is used, so a low limit left by an old overload cannot refuse a later burst.
   * Default {@link DEFAULT_RESTING_LIMIT}.
   */
  readonly initialLimit?: number;
  /** Default 4. */
  readonly minLimit?: number;
  /** Default 1000. */
  readonly maxLimit?: number;
  /** Queueing time tolerated (ms); above it the limit shrinks. Default 2. */
  readonly targetQueueMs?: number;
  /** How often the queueing time is read and the limit adjusted (ms). Default 50. */
  readonly intervalMs?: number;
  /**
   * Intervals in a row the queue must stay above (below) the target before the limit is cut
   * (recovers): a single stall — a GC pause, a process losing the CPU for a moment, a peer dying —
   * is not overload. Default 3.
   */
  readonly sustainIntervals?: number;
  /**
   * A jam: the queue above its target with the process busy in at least `jamShare` of the last
   * `jamIntervals` intervals. Then the limit is cut even though it is not reached: the calls wait
   * for the event loop before their handlers run, where no limit counts them. Defaults 30
   * intervals (1.5 s) and 0.75: a gateway at twice its capacity queued 60–240 ms in nearly every
   * interval for seconds, while one at 100 calls/s with a Kafka broker restarting on the same
   * machine (and its prediction log sending what it had buffered) queued for about half a second.
   */
  readonly jamIntervals?: number;
  readonly jamShare?: number;
  /**
   * Event-loop utilization (0..1) at or above which a long queue counts as overload. Below it the
   * queue comes from a burst — a peer dying, reconnects, retries — that the process has the time
   * to work off, and refusing would fail calls for nothing. Default 0.9.
   */
  readonly busyUtilization?: number;
  /**
   * Latency tolerated for admitted work, as a multiple of its baseline — the median latency of
   * admitted work in intervals when the process was not busy (below `baselineUtilization`). Above
   * it, like a long queue, the limit shrinks (same gates). It sees what the event loop's delay
   * does not: work queued in the peers it calls and on a CPU shared with them. 0: no latency
   * target. Default 0.
   */
  readonly latencyTarget?: number;
  /** Utilization (0..1) below which an interval's latency teaches the baseline. Default 0.5. */
  readonly baselineUtilization?: number;
  /** Where the queueing time comes from. Default: this process's event loop. */
  readonly probe?: QueueTimeProbe;
}

/**
 * A concurrency limit sized by queueing time: every interval it reads how long work waited before
 * it could run, and — with a latency target — how long admitted work took against its unloaded
 * baseline. When the queue (or the latency) has stayed above its target for `sustainIntervals` in
 * a row and the limit was reached, it cuts the limit in proportion (10–20% a step) — provided the
 * process was busy nearly all that time: a queue in a process with time to spare is a burst, not
 * overload. When the loop stays jammed for longer (`jamIntervals`) the limit is cut below what was
 * in flight even if not reached: the calls are waiting for the loop before their handlers run.
 * While both are within target it grows by one per interval in which it was reached, and — when
 * it is not even reached (no pressure) for as long — it returns quickly to its resting value.
 * Work above the limit — or whose budget is smaller than the time work takes now — is refused at
 * once instead of queueing, so what is admitted is not queued behind work that cannot finish in
 * time.
 */
export class QueueTimeLimit {
  private limitValue: number;
  private inflightValue = 0;
  private reachedLimit = false;
  private recentLatency = 0;
  private lastQueueMs = 0;
  private lastBusy = 0;
  private peakInflight = 0;
  /** When an interval last ended with the queue above its target and the process busy (ms). */
  private queuedAtMs = -Infinity;
  /** For each of the last `jamIntervals` intervals: was the queue long with the process busy? */
  private recentJam: boolean[] = [];
  private intervalLatencies: number[] = [];
  private baselineMs = 0;
  private lastLatencyMs = 0;
  private above = 0;
  private slow = 0;
  private below = 0;
  private readonly resting: number;
  private readonly sustain: number;
  private readonly jamIntervals: number;
  private readonly jamShare: number;
  private readonly busyUtilization: number;
  private readonly min: number;
  private readonly max: number;
  private readonly targetQueueMs: number;
  private readonly latencyTarget: number;
  private readonly baselineUtilization: number;
  private readonly probe: QueueTimeProbe;
  private readonly timer: NodeJS.Timeout;

  constructor(options: QueueTimeLimitOptions = {}) {
    this.limitValue = options.initialLimit ?? DEFAULT_RESTING_LIMIT;
    this.resting = this.limitValue;
    this.sustain = options.sustainIntervals ?? 3;
    this.jamIntervals = options.jamIntervals ?? 30;
    this.jamShare = options.jamShare ?? 0.75;
    this.busyUtilization = options.busyUtilization ?? 0.9;
    this.min = options.minLimit ?? 4;
    this.max = options.maxLimit ?? 1000;
    this.targetQueueMs = options.targetQueueMs ?? 2;
    this.latencyTarget = options.latencyTarget ?? 0;
    this.baselineUtilization = options.baselineUtilization ?? 0.5;
    this.probe = options.probe ?? eventLoopQueueTime();
    this.timer = setInterval(
      () => this.adjust(this.probe.read(), this.probe.busy?.() ?? 1),
      options.intervalMs ?? 50,
    );
    this.timer.unref();
  }

  get limit(): number {
    return Math.floor(this.limitValue);
  }

  get inflight(): number {
    return this.inflightValue;
  }

  /** The queueing time read last (ms). */
  get queueMs(): number {
    return this.lastQueueMs;
  }

  /** Share of the last interval the process was busy (0..1): its event-loop utilization. */
  get busy(): number {
    return this.lastBusy;
  }

  /**
   * Whether the queue was above its target with the process busy in an interval that ended within
   * the last `ms`: work of this process that ran late then was late here, not in what it waited on.
   */
  queuedWithin(ms: number): boolean {
    return nowMs() - this.queuedAtMs <= ms;
  }

  /** Median latency of admitted work in the last interval (ms), 0 when none ended in it. */
  get latencyMs(): number {
    return this.lastLatencyMs;
  }

  /** Unloaded latency of admitted work (ms) the latency target is a multiple of; 0 before any. */
  get baselineLatencyMs(): number {
    return this.baselineMs;
  }

  /** Recent latency of admitted work (ms), 0 before any sample. */
  get expectedLatencyMs(): number {
    return this.recentLatency;
  }

  /** Why a request arriving now would be refused, or undefined. Takes no permit. */
  refusal(): string | undefined {
    if (this.inflightValue < this.limit) return undefined;
    this.reachedLimit = true;
    return `concurrency limit reached: ${this.inflightValue} requests in flight (limit ${this.limit}, queueing ${this.lastQueueMs.toFixed(1)} ms)`;
  }

  /**
   * Admits the request or refuses it at once. `budgetMs`: the time it has; refused when the work
   * is expected to take longer (`expectedMs`, default the recent latency of admitted work).
   */
  tryAcquire(budgetMs = Infinity, expectedMs = this.recentLatency): Permit | Refusal {
    const full = this.refusal();
    if (full) return { refused: true, reason: full };
    if (expectedMs > budgetMs) {
      return {
        refused: true,
        reason: `budget ${budgetMs.toFixed(1)} ms is smaller than the ${expectedMs.toFixed(1)} ms the work takes now`,
      };
    }
    this.inflightValue++;
    if (this.inflightValue > this.peakInflight) this.peakInflight = this.inflightValue;
    if (this.inflightValue >= this.limit) this.reachedLimit = true;
    let released = false;
    return {
      refused: false,
      release: (outcome, latencyMs) => {
        if (released) return;
        released = true;
        this.inflightValue--;
        if (outcome !== 'success') return;
        if (this.intervalLatencies.length < MAX_SAMPLES) this.intervalLatencies.push(latencyMs);
        this.recentLatency =
          this.recentLatency === 0
            ? latencyMs
            : this.recentLatency + (latencyMs - this.recentLatency) * 0.1;
      },
    };
  }

  /**
   * One control step with the queueing time (ms) and the utilization (0..1) of the interval just
   * ended; the latencies of the work admitted that ended in it were recorded by `release`.
   */
  adjust(queueMs: number, busy = 1): void {
    this.lastQueueMs = queueMs;
    this.lastBusy = busy;
    const latencyMs = this.takeIntervalLatency();
    if (latencyMs > 0 && busy < this.baselineUtilization) {
      this.baselineMs =
        this.baselineMs === 0 ? latencyMs : this.baselineMs + (latencyMs - this.baselineMs) * 0.05;
    }
    const busyEnough = busy >= this.busyUtilization;
    const latencyOver =
      this.latencyTarget > 0 && this.baselineMs > 0
        ? latencyMs / (this.baselineMs * this.latencyTarget)
        : 0;
    const queueOver = queueMs / this.targetQueueMs;
    // Intervals in a row each signal has been above its target while the process was busy.
    this.above = queueOver > 1 && busyEnough ? this.above + 1 : 0;
    this.slow = latencyOver > 1 && busyEnough ? this.slow + 1 : 0;
    if (this.above > 0) this.queuedAtMs = nowMs();
    const jammed = this.recordJam(this.above > 0);
    // How far above its target each signal is that has lasted long enough (> 1: above).
    const over = Math.max(
      this.above >= this.sustain ? queueOver : 0,
      this.slow >= this.sustain ? latencyOver : 0,
    );
    if (this.above > 0 || this.slow > 0) {
      this.below = 0;
      // Only a limit that was reached is cut: one above what is in flight refuses nothing now,
      // and cutting it would only refuse the calls of a burst that the process works off.
      if (over > 1 && this.reachedLimit) {
        const factor = Math.max(0.8, Math.min(0.9, 1 / over));
        this.limitValue = Math.max(this.min, this.limitValue * factor);
      } else if (this.above > 0 && jammed) {
        // Jammed, yet the limit is not reached: the calls queue before their handlers, unseen by
        // it. Cut it below the most that were in flight, so that arrivals are refused at their
        // headers — the cheapest answer there is — and the loop catches up; from there the limit
        // is reached, and the rules above keep it. The jam is measured afresh.
        const factor = Math.max(0.8, Math.min(0.9, 1 / queueOver));
        this.limitValue = Math.max(this.min, Math.min(this.limitValue, this.peakInflight) * factor);
        this.recentJam = [];
      }
    } else {
      if (this.reachedLimit) {
        // Under pressure: probe upwards one call at a time.
        this.limitValue = Math.min(this.max, this.limitValue + 1);
      } else if (++this.below >= this.sustain && this.limitValue < this.resting) {
        // No pressure: nothing to protect, so back to the resting limit quickly.
        this.limitValue = Math.min(this.resting, this.limitValue * 1.25 + 1);
      }
    }
    this.reachedLimit = this.inflightValue >= this.limit;
    this.peakInflight = this.inflightValue;
  }

  /** Records whether an interval was jammed; true when enough of the last `jamIntervals` were. */
  private recordJam(jammed: boolean): boolean {
    this.recentJam.push(jammed);
    if (this.recentJam.length > this.jamIntervals) this.recentJam.shift();
    return (
      this.recentJam.length === this.jamIntervals &&
      this.recentJam.filter(Boolean).length >= this.jamShare * this.jamIntervals
    );
  }

  /** The median latency of the work that ended in the interval (0: too few), and a fresh one. */
  private takeIntervalLatency(): number {
    const samples = this.intervalLatencies;
    this.intervalLatencies = [];
    if (samples.length < MIN_SAMPLES) {
      this.lastLatencyMs = 0;
      return 0;
    }
    samples.sort((a, b) => a - b);
    this.lastLatencyMs = samples[samples.length >> 1]!;
    return this.lastLatencyMs;
  }

  stop(): void {
    clearInterval(this.timer);
    this.probe.stop();
  }
}

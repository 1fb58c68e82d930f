import type { Logger } from '@scoregate/telemetry';
import type { PredictionEvent } from './prediction-log.js';
import type { EncodedEvent } from './sink.js';

/** Why events were given up: counted apart in `scoregate.prediction_log.dropped`. */
export type DropReason = 'buffer_full' | 'closed' | 'close_timeout' | 'invalid';

/** One recorded event waiting in the buffer. */
export interface PendingEvent {
  readonly init: PredictionEvent;
  readonly loggedAtMs: number;
  readonly headers: Record<string, string>;
  /** The encoded event, once the flusher built it (kept across retries). */
  encoded?: EncodedEvent;
  /** Set when building it failed: skipped by every later attempt. */
  unusable?: true;
}

export interface EventBufferOptions {
  /** Most events held; beyond it new events are dropped. */
  readonly bound: number;
  /** A waiting flusher is woken when this many events are held (or the first one arrives). */
  readonly batchSize: number;
  /** Named in the log lines about dropping. */
  readonly sinkName: string;
  readonly log: Logger;
  /** Told of every drop (the metric). */
  readonly onDrop: (count: number, reason: DropReason) => void;
}

/** What the buffer has counted since it was made. */
export interface BufferCounts {
  readonly recorded: number;
  readonly delivered: number;
  readonly dropped: number;
  readonly buffered: number;
}

/**
 * The bounded queue between `record()` and the flusher: accepts what fits, drops and counts the
 * rest (a log line when dropping starts and one when it stops), and wakes a waiting flusher.
 * Once closed it accepts nothing more and is drained.
 */
export class EventBuffer {
  // Slots before `head` were delivered and are emptied at once: a delivered event keeps nothing
  // (its builder may hold a whole request); the array itself is compacted now and then.
  private queue: (PendingEvent | undefined)[] = [];
  private head = 0;
  private waiter: (() => void) | undefined;
  private droppingSince: number | undefined;
  private isClosed = false;
  private recorded = 0;
  private delivered = 0;
  private dropped = 0;

  constructor(private readonly options: EventBufferOptions) {}

  get size(): number {
    return this.queue.length - this.head;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  counts(): BufferCounts {
    const { recorded, delivered, dropped } = this;
    return { recorded, delivered, dropped, buffered: this.size };
  }

  /**
   * Queues the first events that fit, stamped with `headers()` (asked only when one fits) and the
   * time now; drops the rest. Never throws: what could not be queued is counted as dropped.
   */
  accept(inits: readonly PredictionEvent[], headers: () => Record<string, string>): void {
    let queued = 0;
    try {
      if (this.isClosed) return this.drop('closed', inits.length);
      const before = this.size;
      const room = Math.max(0, Math.min(inits.length, this.options.bound - before));
      if (room > 0) {
        const stamped = headers();
        const loggedAtMs = Date.now();
        for (let i = 0; i < room; i++)
          this.queue.push({ init: inits[i]!, loggedAtMs, headers: stamped });
        queued = room;
        this.recorded += room;
        if (this.waiter !== undefined && (before === 0 || this.size >= this.options.batchSize))
          this.wake();
      }
      if (room < inits.length) this.drop('buffer_full', inits.length - room);
    } catch {
      // record() must never fail the answer it logs.
      this.dropped += inits.length - queued;
    }
  }

  /** The next `count` events, oldest first, left in the buffer until `release`. */
  peek(count: number): PendingEvent[] {
    return this.queue.slice(this.head, this.head + count) as PendingEvent[];
  }

  /** Removes the next `count` events, of which `delivered` reached the sink. */
  release(count: number, delivered: number): void {
    this.queue.fill(undefined, this.head, this.head + count);
    this.head += count;
    this.delivered += delivered;
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.noteRoom();
  }

  /** Gives up every event held; returns how many. */
  discardAll(reason: DropReason): number {
    const left = this.size;
    if (left > 0) {
      this.queue = [];
      this.head = 0;
      this.drop(reason, left);
    }
    return left;
  }

  drop(reason: DropReason, count = 1): void {
    this.dropped += count;
    this.options.onDrop(count, reason);
    if (reason === 'buffer_full' && this.droppingSince === undefined) {
      this.droppingSince = this.dropped - count;
      const { bound, sinkName, log } = this.options;
      log.warn(
        { buffered: this.size, bound, sink: sinkName },
        `prediction log buffer full (${bound} events): dropping new events until it drains`,
      );
    }
  }

  /** Accepts nothing more and wakes the flusher so that it drains what is held. */
  close(): void {
    this.isClosed = true;
    this.wake();
  }

  /** Resolves after `ms` (forever when undefined) or when events arrive or the buffer closes. */
  waitForEvents(ms?: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(timer);
        if (this.waiter === done) this.waiter = undefined;
        resolve();
      };
      if (ms !== undefined) timer = setTimeout(done, ms);
      this.waiter = done;
    });
  }

  private wake(): void {
    const resolve = this.waiter;
    this.waiter = undefined;
    resolve?.();
  }

  private noteRoom(): void {
    const { droppingSince, dropped } = this;
    if (droppingSince !== undefined && this.size < this.options.bound) {
      this.options.log.warn(
        { droppedNow: dropped - droppingSince, droppedTotal: dropped, buffered: this.size },
        `prediction log buffer has room again: stopped dropping (${dropped - droppingSince} events dropped)`,
      );
      this.droppingSince = undefined;
    }
  }
}

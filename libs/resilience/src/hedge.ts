/** One attempt a hedge may start. */
export interface HedgeAttempt<T> {
  /** Runs the attempt; must stop (reject) when `signal` aborts. */
  run(signal: AbortSignal): Promise<T>;
  /**
   * Start the next attempt when this one has not answered after this long (ms), e.g. its
   * observed p95. Undefined: only when it fails.
   */
  readonly hedgeAfterMs: number | undefined;
}

export interface HedgeOutcome<T> {
  readonly value: T;
  /** Index of the attempt that won. */
  readonly winner: number;
  /** How many attempts were started. */
  readonly started: number;
  /** Errors of the attempts that failed before the winner answered, by index. */
  readonly errors: ReadonlyMap<number, unknown>;
  /** Indexes of the attempts started by the hedge timer (not after a failure). */
  readonly hedged: readonly number[];
}

/** The reason an attempt's signal aborts with when another attempt answered first. */
export class HedgeLostError extends Error {
  constructor(
    /** Index of the attempt that answered. */
    readonly winner: number,
  ) {
    super(`attempt ${winner} answered first`);
    this.name = 'HedgeLostError';
  }
}

/** Every attempt failed (or none could start). */
export class HedgeFailedError extends Error {
  constructor(
    readonly errors: ReadonlyMap<number, unknown>,
    readonly started: number,
    readonly hedged: readonly number[],
  ) {
    super(started === 0 ? 'no attempt could be started' : `all ${started} attempts failed`);
    this.name = 'HedgeFailedError';
  }
}

/**
 * Runs attempts one after another, hedging: the next attempt starts when the current one fails,
 * or when it is still running after its `hedgeAfterMs` — not from the start. The first success
 * wins; the attempts still running are cancelled through their AbortSignal.
 *
 * `next(index)` is asked for the attempt to start at each step (so it can decide with the budget
 * left at that moment); it returns undefined when there is nothing more to try.
 */
export function hedge<T>(
  next: (index: number) => HedgeAttempt<T> | undefined,
  signal?: AbortSignal,
): Promise<HedgeOutcome<T>> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason ?? new Error('aborted'));
      return;
    }
    new HedgeRun(next, signal, resolve, reject).start();
  });
}

/** The state of one hedge: attempts started, running and failed, and the hedge timer. */
class HedgeRun<T> {
  private readonly controllers: AbortController[] = [];
  private readonly errors = new Map<number, unknown>();
  private readonly hedged: number[] = [];
  private running = 0;
  private exhausted = false;
  private settled = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly next: (index: number) => HedgeAttempt<T> | undefined,
    private readonly signal: AbortSignal | undefined,
    private readonly resolve: (outcome: HedgeOutcome<T>) => void,
    private readonly reject: (reason: unknown) => void,
  ) {}

  start(): void {
    this.signal?.addEventListener('abort', this.onAbort, { once: true });
    this.startNext(false);
  }

  /** Starts the next attempt, `byTimer` when the hedge timer asked for it. */
  private startNext(byTimer: boolean): void {
    if (this.settled || this.exhausted) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const index = this.controllers.length;
    const attempt = this.next(index);
    if (!attempt) {
      this.exhausted = true;
      this.failIfDone();
      return;
    }
    if (byTimer) this.hedged.push(index);
    const controller = new AbortController();
    this.controllers.push(controller);
    this.running++;
    if (attempt.hedgeAfterMs !== undefined && Number.isFinite(attempt.hedgeAfterMs)) {
      // When the timer fires, first let the I/O already received be handled (setImmediate
      // runs after the poll phase): on a busy event loop the answer is often sitting there,
      // and hedging it would be wasted load.
      this.timer = setTimeout(
        () => setImmediate(() => this.startNext(true)),
        Math.max(0, attempt.hedgeAfterMs),
      );
    }
    started(attempt, controller.signal).then(
      (value) => this.succeeded(index, value),
      (error: unknown) => this.failed(index, error),
    );
  }

  private succeeded(index: number, value: T): void {
    this.running--;
    if (this.settled) return;
    this.finish();
    this.cancelAll(new HedgeLostError(index));
    const { errors, hedged } = this;
    this.resolve({ value, winner: index, started: this.controllers.length, errors, hedged });
  }

  private failed(index: number, error: unknown): void {
    this.running--;
    if (this.settled) return;
    this.errors.set(index, error);
    // The latest attempt failed: start the next now rather than waiting for the hedge timer.
    if (index === this.controllers.length - 1) this.startNext(false);
    this.failIfDone();
  }

  private readonly onAbort = (): void => {
    if (this.settled) return;
    this.finish();
    this.cancelAll(this.signal?.reason);
    this.reject(this.signal?.reason ?? new Error('aborted'));
  };

  private failIfDone(): void {
    if (!this.settled && this.running === 0 && this.exhausted) {
      this.finish();
      this.reject(new HedgeFailedError(this.errors, this.controllers.length, this.hedged));
    }
  }

  private finish(): void {
    this.settled = true;
    if (this.timer) clearTimeout(this.timer);
    this.signal?.removeEventListener('abort', this.onAbort);
  }

  private cancelAll(reason: unknown): void {
    for (const controller of this.controllers)
      if (!controller.signal.aborted) controller.abort(reason);
  }
}

/** The attempt's promise; an attempt that throws instead of rejecting counts as failed. */
function started<T>(attempt: HedgeAttempt<T>, signal: AbortSignal): Promise<T> {
  try {
    return attempt.run(signal);
  } catch (error) {
    return Promise.reject(error);
  }
}

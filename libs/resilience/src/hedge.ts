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
    const controllers: AbortController[] = [];
    const errors = new Map<number, unknown>();
    const hedged: number[] = [];
    let running = 0;
    let exhausted = false;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;

    const finish = (): void => {
      settled = true;
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const cancelAll = (reason: unknown): void => {
      for (const controller of controllers)
        if (!controller.signal.aborted) controller.abort(reason);
    };
    const onAbort = (): void => {
      if (settled) return;
      finish();
      cancelAll(signal?.reason);
      reject(signal?.reason ?? new Error('aborted'));
    };
    const failIfDone = (): void => {
      if (!settled && running === 0 && exhausted) {
        finish();
        reject(new HedgeFailedError(errors, controllers.length, hedged));
      }
    };

    const startNext = (byTimer: boolean): void => {
      if (settled || exhausted) return;
      if (timer) clearTimeout(timer);
      timer = undefined;
      const index = controllers.length;
      const attempt = next(index);
      if (!attempt) {
        exhausted = true;
        failIfDone();
        return;
      }
      if (byTimer) hedged.push(index);
      const controller = new AbortController();
      controllers.push(controller);
      running++;
      if (attempt.hedgeAfterMs !== undefined && Number.isFinite(attempt.hedgeAfterMs)) {
        // When the timer fires, first let the I/O already received be handled (setImmediate
        // runs after the poll phase): on a busy event loop the answer is often sitting there,
        // and hedging it would be wasted load.
        timer = setTimeout(
          () => setImmediate(() => startNext(true)),
          Math.max(0, attempt.hedgeAfterMs),
        );
      }
      let promise: Promise<T>;
      try {
        promise = attempt.run(controller.signal);
      } catch (error) {
        promise = Promise.reject(error);
      }
      promise.then(
        (value) => {
          running--;
          if (settled) return;
          finish();
          cancelAll(new HedgeLostError(index));
          resolve({ value, winner: index, started: controllers.length, errors, hedged });
        },
        (error: unknown) => {
          running--;
          if (settled) return;
          errors.set(index, error);
          // The latest attempt failed: start the next now rather than waiting for the hedge timer.
          if (index === controllers.length - 1) startNext(false);
          failIfDone();
        },
      );
    };

    if (signal?.aborted) {
      reject(signal.reason ?? new Error('aborted'));
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    startNext(false);
  });
}

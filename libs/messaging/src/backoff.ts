/** Delays between attempts: doubling from `initialMs` up to `maxMs`. */
export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
}

export const defaultBackoff: BackoffOptions = { initialMs: 100, maxMs: 5_000 };

/** The delay before attempt `attempt` (1 = the first retry). */
export function backoffDelay(options: BackoffOptions, attempt: number): number {
  return Math.min(options.maxMs, options.initialMs * 2 ** Math.min(attempt - 1, 30));
}

/** Waits `ms`, or less when `signal` aborts (then resolves early; the caller checks the signal). */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

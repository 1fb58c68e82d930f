/** Delays between attempts: doubling from `initialMs` up to `maxMs`. */
export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
  /**
   * Spread each delay over [50%, 100%] of its value, so that many clients that lost the same
   * server do not all come back at the same instant.
   */
  readonly jitter?: boolean;
}

export const defaultBackoff: BackoffOptions = { initialMs: 100, maxMs: 5_000 };

/** The delay before attempt `attempt` (1 = the first retry). */
export function backoffDelay(
  options: BackoffOptions,
  attempt: number,
  random = Math.random,
): number {
  const delay = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(attempt - 1, 30));
  return options.jitter ? delay * (0.5 + random() / 2) : delay;
}

/** Waits `ms`, or less when `signal` aborts (then resolves early; the caller checks the signal). */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

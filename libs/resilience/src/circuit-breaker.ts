import CircuitBreaker from 'opossum';

export interface CircuitBreakerOptions {
  /** Error (and time-out) percentage over the rolling window that opens the circuit. Default 50. */
  readonly errorThresholdPercentage?: number;
  /** Calls needed in the window before the circuit may open. Default 10. */
  readonly volumeThreshold?: number;
  /** Rolling statistics window (ms). Default 10 s. */
  readonly rollingWindowMs?: number;
  /** Time an open circuit waits before letting one probe through (half-open) (ms). Default 1 s. */
  readonly resetTimeoutMs?: number;
  /**
   * Failures in a row that open the circuit, whatever the error rate over the window: a
   * dependency that stopped answering is cut off after a few calls, not after half a window.
   * Errors `isFailure` excludes neither count nor break the row. Default: no such rule.
   */
  readonly consecutiveFailures?: number;
  /** Errors for which this returns false do not count as failures (e.g. the caller's own cancel). */
  readonly isFailure?: (error: unknown) => boolean;
  /** Called when a circuit changes state. */
  readonly onStateChange?: (key: string, state: CircuitState) => void;
}

export type CircuitState = 'closed' | 'open' | 'half-open';

/** Thrown instead of calling through when a circuit is open. */
export class CircuitOpenError extends Error {
  constructor(readonly key: string) {
    super(`circuit "${key}" is open`);
    this.name = 'CircuitOpenError';
  }
}

type Action = (run: () => Promise<unknown>) => Promise<unknown>;

/**
 * One opossum circuit breaker per key (e.g. `model@backend`): opens on the error rate (a deadline
 * exceeded counts as an error) or on `consecutiveFailures` in a row, lets a single probe through
 * after `resetTimeoutMs` (half-open), closes when the probe succeeds.
 */
export class CircuitBreakers {
  private readonly breakers = new Map<string, CircuitBreaker<Parameters<Action>, unknown>>();
  /** Per key, the failures since its last success (only with `consecutiveFailures`). */
  private readonly failuresInARow = new Map<string, number>();

  constructor(private readonly options: CircuitBreakerOptions = {}) {}

  private breakerFor(key: string): CircuitBreaker<Parameters<Action>, unknown> {
    let breaker = this.breakers.get(key);
    if (breaker) return breaker;
    const action: Action = (run) => run();
    const isFailure = this.options.isFailure;
    breaker = new CircuitBreaker(action, {
      name: key,
      // Deadlines are the caller's business: they come with every call.
      timeout: false,
      errorThresholdPercentage: this.options.errorThresholdPercentage ?? 50,
      volumeThreshold: this.options.volumeThreshold ?? 10,
      rollingCountTimeout: this.options.rollingWindowMs ?? 10_000,
      rollingCountBuckets: 10,
      resetTimeout: this.options.resetTimeoutMs ?? 1_000,
      ...(isFailure ? { errorFilter: (error: unknown) => !isFailure(error) } : {}),
    });
    breaker.on('close', () => this.failuresInARow.delete(key));
    const onState = this.options.onStateChange;
    if (onState) {
      breaker.on('open', () => onState(key, 'open'));
      breaker.on('halfOpen', () => onState(key, 'half-open'));
      breaker.on('close', () => onState(key, 'closed'));
    }
    this.breakers.set(key, breaker);
    return breaker;
  }

  /** The state of the circuit for `key` (closed when never used). */
  state(key: string): CircuitState {
    const breaker = this.breakers.get(key);
    if (!breaker) return 'closed';
    if (breaker.halfOpen) return 'half-open';
    return breaker.opened ? 'open' : 'closed';
  }

  /** False while the circuit is open; a half-open circuit allows its probe. */
  allows(key: string): boolean {
    return this.state(key) !== 'open';
  }

  /** Runs `fn` through the circuit of `key`; rejects with {@link CircuitOpenError} when open. */
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const breaker = this.breakerFor(key);
    try {
      const result = (await breaker.fire(fn)) as T;
      this.failuresInARow.delete(key);
      return result;
    } catch (error) {
      if ((error as { code?: string }).code === 'EOPENBREAKER') throw new CircuitOpenError(key);
      this.countFailure(key, breaker, error);
      throw error;
    }
  }

  /** Opens the circuit of `key` once `consecutiveFailures` failures came in a row. */
  private countFailure(key: string, breaker: CircuitBreaker, error: unknown): void {
    const limit = this.options.consecutiveFailures;
    if (limit === undefined || !(this.options.isFailure?.(error) ?? true)) return;
    const inARow = (this.failuresInARow.get(key) ?? 0) + 1;
    this.failuresInARow.set(key, inARow);
    if (inARow >= limit) breaker.open();
  }

  /** Stops every breaker's timers. */
  shutdown(): void {
    for (const breaker of this.breakers.values()) breaker.shutdown();
    this.breakers.clear();
    this.failuresInARow.clear();
  }
}

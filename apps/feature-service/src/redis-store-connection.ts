import { Redis } from 'ioredis';
import { FeatureStoreUnavailableError, type StoreCallOptions } from './feature-store.js';
import type { FeatureCatalog } from './feature-views.js';

export interface RedisConnectionOptions {
  /** `redis://[user:password@]host:port[/db]`. */
  readonly url: string;
  /** Longest wait for Redis when the call's deadline is later or absent. Default 1000 ms. */
  readonly commandTimeoutMs?: number;
  /** Longest wait for a TCP connection. Default 500 ms. */
  readonly connectTimeoutMs?: number;
  /** Cap of the reconnection backoff (25 ms doubling up to this). Default 500 ms. */
  readonly maxReconnectDelayMs?: number;
  /** Told when the connection is lost and back; silent by default. */
  readonly logger?: {
    info(object: object, message: string): void;
    warn(object: object, message: string): void;
  };
}

/**
 * The store's connection to Redis, failing fast: no offline queue and no retries (a command fails
 * at once while disconnected), a short connect timeout, reconnection with a small capped backoff,
 * and every call bounded by the caller's deadline. Reconnection is ioredis's own: nothing needs
 * restarting. Every failure is a FeatureStoreUnavailableError naming Redis by its URL without
 * credentials.
 */
export class RedisConnection {
  readonly redis: Redis;
  /** The URL without credentials, for messages and logs. */
  readonly where: string;
  private readonly commandTimeoutMs: number;
  private lastError: Error | undefined;
  private wasReady = false;

  constructor(options: RedisConnectionOptions) {
    this.where = describeUrl(options.url);
    this.commandTimeoutMs = options.commandTimeoutMs ?? 1000;
    const maxReconnectDelayMs = options.maxReconnectDelayMs ?? 500;
    this.redis = new Redis(options.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: options.connectTimeoutMs ?? 500,
      // A backstop for commands nobody bounded; calls are bounded by their deadline in `bounded`.
      commandTimeout: this.commandTimeoutMs,
      retryStrategy: (attempt) =>
        Math.min(25 * 2 ** Math.min(attempt - 1, 10), maxReconnectDelayMs),
      autoResubscribe: false,
    });
    this.watch(options.logger);
  }

  /** Remembers the last error and logs the connection going and coming back. */
  private watch(logger: RedisConnectionOptions['logger']): void {
    const where = this.where;
    this.redis.on('error', (error: Error) => {
      this.lastError = error;
    });
    this.redis.on('ready', () => {
      this.lastError = undefined;
      logger?.info({ redis: where }, `Redis at ${where} is connected`);
      this.wasReady = true;
    });
    this.redis.on('close', () => {
      if (!this.wasReady) return;
      this.wasReady = false;
      logger?.warn(
        { redis: where, err: this.lastError },
        `lost the connection to Redis at ${where}; reconnecting (calls fail with UNAVAILABLE meanwhile)`,
      );
    });
  }

  /** Throws at once, without sending anything, while Redis is not connected. */
  ensureConnected(): void {
    const { status } = this.redis;
    if (status === 'ready') return;
    const reason = this.lastError ? `: ${this.lastError.message}` : '';
    throw new FeatureStoreUnavailableError(
      `Redis at ${this.where} is not connected (${status}${reason})`,
    );
  }

  /** The error of a failed command, saying "not connected" when that is why it failed. */
  failure(error: Error, what: string, outcomeUnknown = false): FeatureStoreUnavailableError {
    const { status } = this.redis;
    const disconnected = status !== 'ready' || error.message.includes("Stream isn't writeable");
    return new FeatureStoreUnavailableError(
      disconnected
        ? `Redis at ${this.where} is not connected (${status === 'ready' ? 'connection lost' : status}: ${error.message})`
        : `Redis at ${this.where} failed the ${what}: ${error.message}`,
      { cause: error, outcomeUnknown },
    );
  }

  /**
   * Waits for `work` until the call's deadline (or commandTimeoutMs, whichever comes first), or
   * until the caller gives up. A reply that comes later is dropped. A write that fails this way
   * may still have been applied (`outcomeUnknown`).
   */
  bounded<T>(work: Promise<T>, call: StoreCallOptions, what: 'read' | 'write'): Promise<T> {
    const deadline = call.deadline ?? Infinity;
    const waitMs = Math.max(0, Math.min(deadline - Date.now(), this.commandTimeoutMs));
    const outcomeUnknown = what === 'write';
    const timeout = () =>
      new FeatureStoreUnavailableError(
        `Redis at ${this.where} did not answer the ${what} within ${Math.round(waitMs)} ms`,
        { outcomeUnknown },
      );
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => finish(() => reject(timeout())), waitMs);
      const onAbort = () => finish(() => reject(call.signal!.reason));
      call.signal?.addEventListener('abort', onAbort, { once: true });
      let done = false;
      function finish(settle: () => void) {
        if (done) return;
        done = true;
        clearTimeout(timer);
        call.signal?.removeEventListener('abort', onAbort);
        settle();
      }
      work.then(
        (value) => finish(() => resolve(value)),
        (error: unknown) =>
          finish(() => reject(this.failure(error as Error, what, outcomeUnknown))),
      );
    });
  }

  /** Resolves once Redis answers; rejects after `timeoutMs`. */
  async waitUntilReady(timeoutMs: number): Promise<void> {
    if (this.redis.status === 'ready') return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.redis.off('ready', onReady);
        reject(
          new FeatureStoreUnavailableError(
            `Redis at ${this.where} was not reachable within ${timeoutMs} ms (${this.lastError?.message ?? this.redis.status})`,
          ),
        );
      }, timeoutMs);
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      this.redis.once('ready', onReady);
    });
  }

  /** Closes the connection (QUIT, or a hard disconnect after 1 s). */
  async close(): Promise<void> {
    const { redis } = this;
    this.wasReady = false;
    if (redis.status === 'end') return;
    const hardStop = setTimeout(() => redis.disconnect(), 1000);
    try {
      if (redis.status === 'ready') await redis.quit();
      else redis.disconnect();
    } catch {
      redis.disconnect();
    } finally {
      clearTimeout(hardStop);
    }
  }
}

/** What the read and write paths share: the connection, the catalog, the key prefix, the clock. */
export interface RedisStoreContext {
  readonly connection: RedisConnection;
  readonly catalog: FeatureCatalog;
  readonly prefix: string;
  readonly clock: () => number;
}

/** The URL without credentials, for messages and logs. */
function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
  } catch {
    return 'redis (unparsable URL)';
  }
}

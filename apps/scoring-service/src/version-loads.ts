import type { ModelStore } from './model-store.js';
import type { KnownVersion } from './registry-state.js';
import type { VersionLoader } from './version-loader.js';

/** A failed download is tried again after this long; any other failure is final. */
const DOWNLOAD_RETRY_MS = 2_000;

/**
 * The versions being loaded, one at a time in the order asked, and what became of those that
 * failed: a bad artifact is never tried again (versions are immutable), a failed download is,
 * after a delay. `onSettled` is called after each load, and when a retry is due.
 */
export class VersionLoads {
  private readonly loading = new Set<string>();
  /** Versions that failed for good (bad artifact), by key. */
  private readonly broken = new Set<string>();
  /** Versions whose download failed, by key → time after which to try again. */
  private readonly retryAt = new Map<string, number>();
  private retryTimer: NodeJS.Timeout | undefined;
  private chain = Promise.resolve();

  constructor(
    private readonly loader: VersionLoader,
    private readonly store: ModelStore,
    private readonly onSettled: () => void,
  ) {}

  /**
   * Starts loading each needed version that is known, not loaded, not broken and not waiting
   * for a retry. True when every needed version has been tried at least once (readiness).
   */
  request(needed: Iterable<string>, known: ReadonlyMap<string, KnownVersion>): boolean {
    const now = Date.now();
    const wanted = new Set(needed);
    // A version no longer needed is not retried: its due retry would otherwise fire at once, forever.
    for (const key of this.retryAt.keys()) if (!wanted.has(key)) this.retryAt.delete(key);
    let settled = true;
    for (const key of wanted) {
      const v = known.get(key);
      const [model, version] = key.split('@') as [string, string];
      if (this.store.get(model, version)) continue;
      if (!v || this.broken.has(key)) continue;
      const retry = this.retryAt.get(key);
      if (retry !== undefined && retry > now) continue;
      settled = settled && retry !== undefined;
      if (!this.loading.has(key)) this.start(key, v);
    }
    return settled;
  }

  /** True when no load is running. */
  idle(): boolean {
    return this.loading.size === 0;
  }

  /** Calls `onSettled` when the earliest retry is due (one timer at a time). */
  scheduleRetry(): void {
    if (this.retryAt.size === 0 || this.retryTimer) return;
    const next = Math.max(0, Math.min(...this.retryAt.values()) - Date.now());
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.onSettled();
    }, next).unref();
  }

  /** Cancels the retry timer and waits for the load running now. */
  async stop(): Promise<void> {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.chain.catch(() => undefined);
  }

  private start(key: string, v: KnownVersion): void {
    this.loading.add(key);
    this.chain = this.chain.then(() => this.load(key, v)).finally(() => this.loading.delete(key));
    void this.chain.then(this.onSettled);
  }

  private async load(key: string, v: KnownVersion): Promise<void> {
    const outcome = await this.loader.load(v);
    if (outcome === 'loaded') this.retryAt.delete(key);
    else if (outcome === 'skipped') return;
    else if (outcome.failed === 'download') this.retryAt.set(key, Date.now() + DOWNLOAD_RETRY_MS);
    else this.broken.add(key);
  }
}

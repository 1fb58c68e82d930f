import type { RpcLogger } from '@scoregate/rpc';
import type { ModelStore } from './model-store.js';
import { versionKey } from './registry-state.js';
import type { ServedModel } from './served-model.js';

export interface RetirementsOptions {
  readonly store: ModelStore;
  readonly logger: RpcLogger;
  /**
   * How long a version that nothing needs any more stays loaded, so that callers that resolved
   * its alias a moment ago (the gateway caches routes) still find it.
   */
  readonly graceMs: number;
  /** Whether a version (`model@version`) is needed again when its grace period ends. */
  isNeeded(key: string): boolean;
}

/** Loaded versions on their way out: each removed from the store after a grace period. */
export class Retirements {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly options: RetirementsOptions) {}

  /** Keeps every loaded version in `keep`; starts the grace period of every other one. */
  update(keep: ReadonlySet<string>): void {
    for (const served of this.options.store.list()) {
      const key = versionKey(served.name, served.version);
      const timer = this.timers.get(key);
      if (keep.has(key)) {
        if (timer) clearTimeout(timer);
        this.timers.delete(key);
      } else if (!timer) {
        this.timers.set(key, setTimeout(() => this.retire(served), this.options.graceMs).unref());
      }
    }
  }

  /** Cancels every pending retirement. */
  clear(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
  }

  private retire(served: ServedModel): void {
    const key = versionKey(served.name, served.version);
    this.timers.delete(key);
    if (this.options.isNeeded(key)) return;
    this.options.logger.info({ model: served.name, version: served.version }, `retiring ${key}`);
    void this.options.store.remove(served.name, served.version);
  }
}

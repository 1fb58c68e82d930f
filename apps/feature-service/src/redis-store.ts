import type { FeatureStore } from './feature-store.js';
import type { FeatureCatalog } from './feature-views.js';
import {
  RedisConnection,
  type RedisConnectionOptions,
  type RedisStoreContext,
} from './redis-store-connection.js';
import { DEFAULT_KEY_PREFIX } from './redis-store-layout.js';
import { readFeatures } from './redis-store-read.js';
import { defineWriteRowsScript } from './redis-store-scripts.js';
import { writeRows } from './redis-store-write.js';

export { DEFAULT_KEY_PREFIX } from './redis-store-layout.js';

export interface RedisFeatureStoreOptions extends RedisConnectionOptions {
  readonly catalog: FeatureCatalog;
  /** Prepended to every key; default `sg:f:`. */
  readonly keyPrefix?: string;
  /** Current time in epoch ms, for freshness and ttl; injectable for tests. */
  readonly clock?: () => number;
}

export interface RedisFeatureStore extends FeatureStore {
  /** `redis://host:port/db, keys sg:f:*` (no password). */
  readonly description: string;
  /** Resolves once Redis answers; rejects after `timeoutMs`. */
  waitUntilReady(timeoutMs: number): Promise<void>;
  /** Closes the connection (QUIT, or a hard disconnect after 1 s). */
  close(): Promise<void>;
}

/**
 * The Redis online store. Its parts, one module each:
 *
 * - redis-store-layout.ts: where features lie (one hash per entity, a field per feature and an
 *   event-time field per view) and how values are encoded;
 * - redis-store-read.ts: a read as one pipeline of HMGETs, answered OK, STALE or MISSING;
 * - redis-store-write.ts and redis-store-scripts.ts: writes through one Lua script that never
 *   puts an older row over a newer one;
 * - redis-store-connection.ts: the fail-fast connection (no offline queue, no retries, every call
 *   bounded by its deadline; ioredis reconnects by itself).
 *
 * Requires Redis >= 7.0 (PEXPIRETIME in the write script).
 */
export function createRedisFeatureStore(options: RedisFeatureStoreOptions): RedisFeatureStore {
  const connection = new RedisConnection(options);
  defineWriteRowsScript(connection.redis);
  const context: RedisStoreContext = {
    connection,
    catalog: options.catalog,
    prefix: options.keyPrefix ?? DEFAULT_KEY_PREFIX,
    clock: options.clock ?? Date.now,
  };
  return {
    description: `${connection.where}, keys ${context.prefix}*`,
    read: (entities, refs, call = {}) => readFeatures(context, entities, refs, call),
    write: (rows, call = {}) => writeRows(context, rows, call),
    waitUntilReady: (timeoutMs) => connection.waitUntilReady(timeoutMs),
    close: () => connection.close(),
  };
}

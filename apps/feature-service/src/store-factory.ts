import { fileURLToPath } from 'node:url';
import { env, type ConfigOf } from '@scoregate/config';
import { defaultSeedFile, loadSeedRows } from './demo-seed.js';
import type { FeatureStore } from './feature-store.js';
import type { FeatureCatalog } from './feature-views.js';
import { createMemoryFeatureStore } from './memory-feature-store.js';
import { createRedisFeatureStore, DEFAULT_KEY_PREFIX } from './redis-store.js';

/**
 * The environment that chooses and configures the store; every process that opens the store
 * (feature-service, the ingestion consumer) spreads it into its `loadConfigOrExit` schema.
 */
export const featureStoreEnv = {
  /** `memory` (embedded, the default for `npm start`) or `redis`. */
  FEATURE_STORE: env.oneOf(['memory', 'redis'], 'memory'),
  REDIS_URL: env.string('redis://127.0.0.1:6379'),
  FEATURE_REDIS_PREFIX: env.string(DEFAULT_KEY_PREFIX),
  /** Longest wait for Redis when the call's deadline is later or absent. */
  FEATURE_REDIS_TIMEOUT_MS: env.millis(1000),
  /**
   * A demo entities file, or `none`. Memory store: the demo file unless `none`. Redis store:
   * nothing is seeded unless a file is named here.
   */
  FEATURE_SEED_FILE: env.optionalString(),
};

export type FeatureStoreConfig = ConfigOf<typeof featureStoreEnv>;

export interface FeatureStoreLogger {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
}

export interface OpenedFeatureStore {
  readonly store: FeatureStore;
  readonly kind: 'memory' | 'redis';
  /** Where the data lives, for logs. */
  readonly description: string;
  /** Releases connections; the store must not be used afterwards. */
  close(): Promise<void>;
}

export interface CreateFeatureStoreOptions {
  readonly catalog: FeatureCatalog;
  /** How long to wait for Redis at start before serving anyway (UNAVAILABLE until it is up). */
  readonly connectWaitMs?: number;
}

/**
 * Opens the store the configuration names. Redis: starts even when Redis is down (a warning, and
 * calls answer UNAVAILABLE until ioredis reconnects), so that a Redis outage never stops the
 * service from starting; the gateway degrades meanwhile.
 */
export async function createFeatureStore(
  config: FeatureStoreConfig,
  logger: FeatureStoreLogger,
  options: CreateFeatureStoreOptions,
): Promise<OpenedFeatureStore> {
  const { catalog } = options;
  if (config.FEATURE_STORE === 'memory') {
    const store = createMemoryFeatureStore({ catalog });
    const description = 'in-memory (lost on restart)';
    if (config.FEATURE_SEED_FILE === 'none') {
      logger.warn(
        {},
        'feature store: in-memory, EMPTY (FEATURE_SEED_FILE=none); data is lost on restart',
      );
    } else {
      const seedFile = config.FEATURE_SEED_FILE ?? defaultSeedFile;
      const rows = await loadSeedRows(seedFile, catalog, Date.now());
      await store.write(rows);
      logger.warn(
        {
          seedFile: seedFile instanceof URL ? fileURLToPath(seedFile) : seedFile,
          rows: rows.length,
        },
        `feature store: in-memory, seeded with ${rows.length} DEMO row(s) stamped now; data is lost on restart`,
      );
    }
    return { store, kind: 'memory', description, close: async () => {} };
  }

  const store = createRedisFeatureStore({
    catalog,
    url: config.REDIS_URL,
    keyPrefix: config.FEATURE_REDIS_PREFIX,
    commandTimeoutMs: config.FEATURE_REDIS_TIMEOUT_MS,
    logger,
  });
  try {
    await store.waitUntilReady(options.connectWaitMs ?? 2000);
  } catch (error) {
    logger.warn(
      { err: error },
      `feature store: ${store.description} is not reachable yet (${(error as Error).message}); serving anyway, calls answer UNAVAILABLE until it is`,
    );
  }
  if (config.FEATURE_SEED_FILE !== undefined && config.FEATURE_SEED_FILE !== 'none') {
    const rows = await loadSeedRows(config.FEATURE_SEED_FILE, catalog, Date.now());
    const outcome = await store.write(rows);
    logger.warn(
      { seedFile: config.FEATURE_SEED_FILE, ...outcome },
      `feature store: seeded ${store.description} with ${outcome.applied} DEMO row(s) stamped now (FEATURE_SEED_FILE)`,
    );
  }
  logger.info({ store: store.description }, `feature store: Redis, ${store.description}`);
  return { store, kind: 'redis', description: store.description, close: () => store.close() };
}

import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@scoregate/config';
import { FeatureStoreUnavailableError } from './feature-store.js';
import { defaultFeatureViewsFile, loadFeatureViews } from './feature-views.js';
import { createFeatureStore, featureStoreEnv, type OpenedFeatureStore } from './store-factory.js';
import { freePort } from '@scoregate/rpc';

const catalog = await loadFeatureViews(defaultFeatureViewsFile);
const logged: string[] = [];
const logger = {
  info: (_: object, message: string) => void logged.push(message),
  warn: (_: object, message: string) => void logged.push(message),
};
const opened: OpenedFeatureStore[] = [];
const demo = { entityType: 'customer', key: 'c-0001' };
const plan = [{ view: 'customer_stats', feature: 'plan_tier' }];

async function open(environment: Record<string, string>, connectWaitMs?: number) {
  const config = loadConfig('test', featureStoreEnv, environment);
  const store = await createFeatureStore(config, logger, {
    catalog,
    ...(connectWaitMs === undefined ? {} : { connectWaitMs }),
  });
  opened.push(store);
  return store;
}

afterAll(async () => {
  for (const store of opened) await store.close();
});

describe('createFeatureStore', () => {
  it('opens the in-memory store seeded with the demo customers by default', async () => {
    const { store, kind } = await open({});
    expect(kind).toBe('memory');
    expect((await store.read([demo], plan))[0]![0]).toMatchObject({ status: 'ok' });
  });

  it('starts even when Redis is unreachable, warns, and fails reads at once as unavailable', async () => {
    const port = await freePort();
    const started = performance.now();
    const { store } = await open(
      { FEATURE_STORE: 'redis', REDIS_URL: `redis://127.0.0.1:${port}` },
      300,
    );
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(logged.some((line) => line.includes('is not reachable yet'))).toBe(true);
    await expect(store.read([demo], plan)).rejects.toBeInstanceOf(FeatureStoreUnavailableError);
  });
});

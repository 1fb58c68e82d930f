import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { ValueType } from '@scoregate/contracts';
import {
  behaviourCatalog,
  DAY,
  describeFeatureStoreBehaviour,
  double,
  HOUR,
  int64,
} from './feature-store.behaviour.js';
import { FeatureStoreUnavailableError } from './feature-store.js';
import { createRedisFeatureStore, type RedisFeatureStore } from './redis-store.js';
import { decodeFeatureValue, encodeFeatureValue } from './redis-store-layout.js';
import { startPrivateRedis } from '@scoregate/test-servers';
import { loadConfig } from '@scoregate/config';
import { fileURLToPath } from 'node:url';
import { defaultSeedFile } from './demo-seed.js';
import { defaultFeatureViewsFile, loadFeatureViews } from './feature-views.js';
import { createFeatureStore, featureStoreEnv } from './store-factory.js';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const runPrefix = `sg:test:${randomUUID().slice(0, 8)}:`;
let admin: Redis;

async function deleteKeys(prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await admin.del(...keys);
  } while (cursor !== '0');
}

beforeAll(() => {
  admin = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
});

afterAll(async () => {
  await deleteKeys(runPrefix);
  await admin.quit();
});

let stores = 0;
describeFeatureStoreBehaviour('redis store', async (catalog, clock) => {
  const keyPrefix = `${runPrefix}${stores++}:`;
  const store = createRedisFeatureStore({ catalog, url: REDIS_URL, keyPrefix, clock });
  await store.waitUntilReady(5_000);
  return {
    store,
    async cleanup() {
      await store.close();
      await deleteKeys(keyPrefix);
    },
  };
});

describe('redis store: layout in Redis', () => {
  let store: RedisFeatureStore;
  const prefix = `${runPrefix}layout:`;
  const now = Date.now();

  beforeAll(async () => {
    store = createRedisFeatureStore({
      catalog: behaviourCatalog,
      url: REDIS_URL,
      keyPrefix: prefix,
    });
    await store.waitUntilReady(5_000);
  });
  afterAll(() => store.close());

  it('keeps one hash per entity with a field per feature and an event-time field per view', async () => {
    const entity = { entityType: 'customer', key: 'c:42' };
    await store.write([
      {
        entity,
        view: 'customer_stats',
        values: new Map([['tickets_30d', int64(3n)]]),
        eventTimeMs: now - HOUR,
      },
      {
        entity,
        view: 'customer_profile',
        values: new Map([['plan_tier', int64(2n)]]),
        eventTimeMs: now - 2 * HOUR,
      },
    ]);
    const key = `${prefix}customer:c:42`;
    const hash = await admin.hgetallBuffer(key);
    expect(Object.keys(hash).sort()).toEqual([
      '_ts:customer_profile',
      '_ts:customer_stats',
      'customer_profile:plan_tier',
      'customer_stats:tickets_30d',
    ]);
    expect(hash['_ts:customer_stats']!.toString()).toBe(String(now - HOUR));
    expect(hash['customer_stats:tickets_30d']).toEqual(encodeFeatureValue(int64(3n)));
  });

  it('sets the hash TTL to the event time + ttl of its longest-lived view, and none once a view without ttl is written', async () => {
    const entity = { entityType: 'site', key: 's-ttl' };
    const write = (eventTimeMs: number) =>
      store.write([
        { entity, view: 'site_stats', values: new Map([['load', double(1)]]), eventTimeMs },
      ]);
    const key = `${prefix}site:s-ttl`;
    await write(now - HOUR / 2);
    expect(await admin.pexpiretime(key)).toBe(now - HOUR / 2 + 2 * HOUR);
    // A newer event moves the expiry later; an older one never brings it earlier.
    await write(now);
    expect(await admin.pexpiretime(key)).toBe(now + 2 * HOUR);
    await write(now - HOUR);
    expect(await admin.pexpiretime(key)).toBe(now + 2 * HOUR);

    const customer = { entityType: 'customer', key: 'c-ttl' };
    const customerKey = `${prefix}customer:c-ttl`;
    await store.write([
      {
        entity: customer,
        view: 'customer_stats',
        values: new Map([['tickets_30d', int64(1n)]]),
        eventTimeMs: now - DAY,
      },
    ]);
    expect(await admin.pexpiretime(customerKey)).toBe(now - DAY + 7 * DAY);
    await store.write([
      {
        entity: customer,
        view: 'customer_profile',
        values: new Map([['plan_tier', int64(1n)]]),
        eventTimeMs: now,
      },
    ]);
    expect(await admin.pexpiretime(customerKey)).toBe(-1);
  });

  it('does not store a row that is already past its ttl when the entity has nothing else', async () => {
    const entity = { entityType: 'site', key: 's-old' };
    const outcome = await store.write([
      {
        entity,
        view: 'site_stats',
        values: new Map([['load', double(1)]]),
        eventTimeMs: now - DAY,
      },
    ]);
    expect(outcome).toEqual({ applied: 1, skippedOlder: 0 });
    expect(await admin.exists(`${prefix}site:s-old`)).toBe(0);
  });

  it('encodes each value as a tag byte and a compact payload, and reads a value of another dtype as absent', () => {
    expect(encodeFeatureValue(double(1.5))).toHaveLength(9);
    expect(encodeFeatureValue(int64(-1n))).toHaveLength(9);
    expect(encodeFeatureValue({ case: 'boolValue', value: true })).toEqual(Buffer.from('t'));
    expect(encodeFeatureValue({ case: 'stringValue', value: 'ab' })).toEqual(Buffer.from('sab'));
    expect(decodeFeatureValue(encodeFeatureValue(int64(7n)), ValueType.INT64)).toEqual(int64(7n));
    expect(decodeFeatureValue(encodeFeatureValue(int64(7n)), ValueType.DOUBLE)).toBeUndefined();
  });

  it('reads a stored value whose dtype changed as MISSING', async () => {
    const entity = { entityType: 'customer', key: 'c-retyped' };
    await store.write([
      {
        entity,
        view: 'customer_stats',
        values: new Map([['tickets_30d', int64(3n)]]),
        eventTimeMs: now - HOUR,
      },
    ]);
    await admin.hset(
      `${prefix}customer:c-retyped`,
      'customer_stats:tickets_30d',
      encodeFeatureValue(double(3)),
    );
    expect(
      await store.read([entity], [{ view: 'customer_stats', feature: 'tickets_30d' }]),
    ).toEqual([[{ status: 'missing' }]]);
  });
});

describe('redis store: failing fast', () => {
  it('sends the write script in full once per connection, then by its SHA1 (EVALSHA)', async () => {
    const redis = await startPrivateRedis();
    const store = createRedisFeatureStore({ catalog: behaviourCatalog, url: redis.url });
    const probe = new Redis(redis.url);
    try {
      await store.waitUntilReady(5_000);
      for (let i = 0; i < 5; i++) {
        await store.write([
          {
            entity: { entityType: 'customer', key: 'c-1' },
            view: 'customer_stats',
            values: new Map([['tickets_30d', int64(BigInt(i))]]),
            eventTimeMs: Date.now(),
          },
        ]);
      }
      const stats = await probe.info('commandstats');
      const calls = (command: string) =>
        Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
      expect({ eval: calls('eval'), evalsha: calls('evalsha') }).toEqual({ eval: 1, evalsha: 4 });
    } finally {
      probe.disconnect();
      await store.close();
      await redis.dispose();
    }
  });

  it('fails a read and a write within a few milliseconds with a precise reason while Redis is down, and recovers by itself', async () => {
    const redis = await startPrivateRedis();
    const store = createRedisFeatureStore({
      catalog: behaviourCatalog,
      url: redis.url,
      keyPrefix: 'sg:f:',
    });
    try {
      await store.waitUntilReady(5_000);
      const entity = { entityType: 'customer', key: 'c-1' };
      const refs = [{ view: 'customer_stats', feature: 'tickets_30d' }];
      const row = {
        entity,
        view: 'customer_stats',
        values: new Map([['tickets_30d', int64(4n)]]),
        eventTimeMs: Date.now(),
      };
      await store.write([row]);
      await redis.stop();

      for (let i = 0; i < 50; i++) {
        const started = performance.now();
        const error = await store.read([entity], refs, { deadline: Date.now() + 1000 }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(performance.now() - started).toBeLessThan(20);
        expect(error).toBeInstanceOf(FeatureStoreUnavailableError);
        expect((error as Error).message).toMatch(
          new RegExp(
            `^Redis at ${redis.url} is not connected \\((reconnecting|connecting|connection lost)`,
          ),
        );
      }
      const started = performance.now();
      await expect(store.write([row])).rejects.toThrow(FeatureStoreUnavailableError);
      expect(performance.now() - started).toBeLessThan(20);

      await redis.start();
      const back = Date.now();
      let reading: unknown;
      while (Date.now() - back < 5_000) {
        reading = await store.read([entity], refs).catch(() => undefined);
        if (reading !== undefined) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(Date.now() - back).toBeLessThan(2_000);
      // The private server runs without persistence: the data is gone, the answer is correct.
      expect(reading).toEqual([[{ status: 'missing' }]]);
    } finally {
      await store.close();
      await redis.dispose();
    }
  });

  it('gives up on a Redis that does not answer at the call deadline, and answers again once it does', async () => {
    const redis = await startPrivateRedis();
    const store = createRedisFeatureStore({
      catalog: behaviourCatalog,
      url: redis.url,
      keyPrefix: 'sg:f:',
    });
    try {
      await store.waitUntilReady(5_000);
      const entity = { entityType: 'customer', key: 'c-1' };
      const refs = [{ view: 'customer_stats', feature: 'tickets_30d' }];
      redis.pause();
      const started = performance.now();
      const error = await store
        .read([entity], refs, { deadline: Date.now() + 50 })
        .catch((e: unknown) => e);
      const elapsed = performance.now() - started;
      expect(error).toBeInstanceOf(FeatureStoreUnavailableError);
      expect((error as Error).message).toMatch(
        new RegExp(`^Redis at ${redis.url} did not answer the read within (49|50) ms$`),
      );
      expect(elapsed).toBeGreaterThanOrEqual(45);
      expect(elapsed).toBeLessThan(250);
      redis.resume();
      expect(await store.read([entity], refs, { deadline: Date.now() + 2_000 })).toEqual([
        [{ status: 'missing' }],
      ]);
    } finally {
      await store.close();
      await redis.dispose();
    }
  });
});

describe('redis store: opened by createFeatureStore', () => {
  it('uses REDIS_URL and FEATURE_REDIS_PREFIX, and seeds nothing unless FEATURE_SEED_FILE names a file', async () => {
    const catalog = await loadFeatureViews(defaultFeatureViewsFile);
    const logger = { info() {}, warn() {} };
    const demo = [{ entityType: 'customer', key: 'c-0001' }];
    const plan = [{ view: 'customer_stats', feature: 'plan_tier' }];
    const open = (environment: Record<string, string>) =>
      createFeatureStore(loadConfig('test', featureStoreEnv, environment), logger, { catalog });

    const empty = await open({
      FEATURE_STORE: 'redis',
      REDIS_URL,
      FEATURE_REDIS_PREFIX: `${runPrefix}factory-a:`,
    });
    const seeded = await open({
      FEATURE_STORE: 'redis',
      REDIS_URL,
      FEATURE_REDIS_PREFIX: `${runPrefix}factory-b:`,
      FEATURE_SEED_FILE: fileURLToPath(defaultSeedFile),
    });
    try {
      expect(empty.kind).toBe('redis');
      expect(empty.description).toBe(`${REDIS_URL}, keys ${runPrefix}factory-a:*`);
      expect(await empty.store.read(demo, plan)).toEqual([[{ status: 'missing' }]]);
      expect((await seeded.store.read(demo, plan))[0]![0]).toMatchObject({ status: 'ok' });
      expect(await admin.exists(`${runPrefix}factory-b:customer:c-0001`)).toBe(1);
    } finally {
      await empty.close();
      await seeded.close();
    }
  });
});

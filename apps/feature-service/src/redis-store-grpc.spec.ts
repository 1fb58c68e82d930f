import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { timestampFromMs, timestampMs } from '@bufbuild/protobuf/wkt';
import { FeatureService, FeatureStatus } from '@scoregate/contracts';
import {
  Code,
  createRpcClient,
  createRpcServer,
  type RpcClient,
  type RpcError,
  type RpcServer,
} from '@scoregate/rpc';
import { createFeatureHandlers } from './feature-handlers.js';
import { defaultFeatureViewsFile, loadFeatureViews } from './feature-views.js';
import { createRedisFeatureStore, type RedisFeatureStore } from './redis-store.js';

/** FeatureService over gRPC on the real Redis (tools/infra), the clock being the real one. */
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const HOUR = 3_600_000;
const silent = { info() {}, warn() {}, error() {} };
const prefix = `sg:test:${randomUUID().slice(0, 8)}:`;

let store: RedisFeatureStore;
let server: RpcServer;
let address: string;
const clients: RpcClient<typeof FeatureService>[] = [];

function newClient(): RpcClient<typeof FeatureService> {
  const client = createRpcClient(FeatureService, { address, defaultTimeoutMs: 10_000 });
  clients.push(client);
  return client;
}

beforeAll(async () => {
  const catalog = await loadFeatureViews(defaultFeatureViewsFile);
  store = createRedisFeatureStore({ catalog, url: REDIS_URL, keyPrefix: prefix });
  await store.waitUntilReady(5_000);
  server = createRpcServer({ name: 'feature-service-redis-test', logger: silent });
  server.register(FeatureService, createFeatureHandlers({ catalog, store }));
  address = `127.0.0.1:${await server.listen('127.0.0.1:0')}`;
});

afterAll(async () => {
  for (const client of clients) client.close();
  await server?.shutdown({ drainDelayMs: 0, graceMs: 1_000 });
  await store?.close();
  // Remove what this run wrote (every key under its own prefix).
  const admin = new Redis(REDIS_URL);
  const keys = await admin.keys(`${prefix}*`);
  if (keys.length > 0) await admin.del(...keys);
  await admin.quit();
});

/** A deterministic shuffle (the test must be reproducible). */
function shuffle<T>(items: T[], seed: number): T[] {
  let state = seed;
  const random = () => (state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

describe('WriteFeatures on Redis, concurrent writers', () => {
  it('20 clients × 200 rows with interleaved event times on the same 10 entities leave exactly the newest row of each entity', async () => {
    const WRITERS = 20;
    const ROWS = 200;
    const ENTITIES = 10;
    const base = Date.now() - HOUR;
    // Unique event times (a tie would make "newest" ambiguous), dealt out in shuffled order.
    const offsets = shuffle(
      Array.from({ length: WRITERS * ROWS }, (_, i) => i),
      42,
    );
    const rows = offsets.map((offset, i) => ({
      entity: { entityType: 'customer', key: `cw-${i % ENTITIES}` },
      eventTimeMs: base + offset * 7,
      tickets: BigInt(offset),
      snr: offset / 8,
    }));
    const newest = new Map<string, (typeof rows)[number]>();
    for (const row of rows) {
      const best = newest.get(row.entity.key);
      if (best === undefined || row.eventTimeMs > best.eventTimeMs) newest.set(row.entity.key, row);
    }

    const outcomes = await Promise.all(
      Array.from({ length: WRITERS }, async (_, w) => {
        const client = newClient();
        const mine = rows.slice(w * ROWS, (w + 1) * ROWS);
        let applied = 0;
        let skipped = 0;
        // 20 requests of 10 rows each, interleaved with every other writer's.
        for (let start = 0; start < mine.length; start += 10) {
          const reply = await client.writeFeatures({
            rows: mine.slice(start, start + 10).map((row) => ({
              entity: row.entity,
              view: 'customer_stats',
              values: {
                tickets_30d: { kind: { case: 'int64Value', value: row.tickets } },
                signal_snr_db: { kind: { case: 'doubleValue', value: row.snr } },
              },
              eventTime: timestampFromMs(row.eventTimeMs),
            })),
          });
          applied += reply.applied;
          skipped += reply.skippedOlder;
        }
        return { applied, skipped };
      }),
    );
    expect(outcomes.reduce((sum, o) => sum + o.applied + o.skipped, 0)).toBe(WRITERS * ROWS);

    const reply = await newClient().getFeatures({
      entities: [...newest.keys()].map((key) => ({ entityType: 'customer', key })),
      featureRefs: ['customer_stats:tickets_30d', 'customer_stats:signal_snr_db'],
    });
    const seen = reply.results.map((result) => ({
      key: result.entity!.key,
      eventTimeMs: timestampMs(result.values[0]!.eventTime!),
      tickets: result.values[0]!.value?.kind.value,
      snr: result.values[1]!.value?.kind.value,
    }));
    expect(seen).toEqual(
      [...newest.values()].map((row) => ({
        key: row.entity.key,
        eventTimeMs: row.eventTimeMs,
        tickets: row.tickets,
        snr: row.snr,
      })),
    );
  });
});

describe('GetFeatures on Redis, real clock', () => {
  it('reports STALE only for values older than max age (24h), MISSING past the ttl (7d), with a 5 s margin either side', async () => {
    const now = Date.now();
    const MARGIN = 5_000;
    const cases = [
      { key: 'fresh-edge', eventTimeMs: now - 24 * HOUR + MARGIN, status: FeatureStatus.OK },
      { key: 'stale-edge', eventTimeMs: now - 24 * HOUR - MARGIN, status: FeatureStatus.STALE },
      { key: 'ttl-edge', eventTimeMs: now - 7 * 24 * HOUR + MARGIN, status: FeatureStatus.STALE },
      { key: 'expired', eventTimeMs: now - 7 * 24 * HOUR - MARGIN, status: FeatureStatus.MISSING },
      { key: 'recent', eventTimeMs: now - 1000, status: FeatureStatus.OK },
    ];
    const client = newClient();
    await client.writeFeatures({
      rows: cases.map(({ key, eventTimeMs }) => ({
        entity: { entityType: 'customer', key },
        view: 'customer_stats',
        values: { plan_tier: { kind: { case: 'int64Value', value: 2n } } },
        eventTime: timestampFromMs(eventTimeMs),
      })),
    });
    const reply = await client.getFeatures({
      entities: cases.map(({ key }) => ({ entityType: 'customer', key })),
      featureRefs: ['customer_stats:plan_tier'],
    });
    expect(reply.results.map((r) => [r.entity!.key, r.values[0]!.status])).toEqual(
      cases.map(({ key, status }) => [key, status]),
    );
    const stale = reply.results[1]!.values[0]!;
    expect(stale.value?.kind).toEqual({ case: 'int64Value', value: 2n });
    expect(timestampMs(stale.eventTime!)).toBe(cases[1]!.eventTimeMs);
  });
});

describe('WriteFeatures on Redis, a non-finite value', () => {
  it.each([Number.NaN, Infinity, -Infinity])(
    'refuses a batch holding %s with INVALID_ARGUMENT naming the row and feature, and writes none of its rows',
    async (bad) => {
      const client = newClient();
      const keys = ['nf-0', 'nf-1', 'nf-2'].map((key) => `${key}-${String(bad)}`);
      const eventTime = timestampFromMs(Date.now() - 1000);
      const rows = keys.map((key, i) => ({
        entity: { entityType: 'customer', key },
        view: 'customer_stats',
        values: {
          plan_tier: { kind: { case: 'int64Value' as const, value: 2n } },
          signal_snr_db: { kind: { case: 'doubleValue' as const, value: i === 1 ? bad : 30 } },
        },
        eventTime,
      }));
      const error = (await client.writeFeatures({ rows }).then(
        () => undefined,
        (e: unknown) => e,
      )) as RpcError | undefined;
      expect(error?.code).toBe(Code.INVALID_ARGUMENT);
      expect(error?.message).toBe(
        `rows[1].values["signal_snr_db"]: must be a finite number, got ${String(bad)}`,
      );
      const reply = await client.getFeatures({
        entities: keys.map((key) => ({ entityType: 'customer', key })),
        featureRefs: ['customer_stats:plan_tier', 'customer_stats:signal_snr_db'],
      });
      expect(reply.results.flatMap((r) => r.values.map((v) => v.status))).toEqual(
        Array<FeatureStatus>(6).fill(FeatureStatus.MISSING),
      );
    },
  );
});

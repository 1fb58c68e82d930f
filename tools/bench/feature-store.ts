/**
 * GetFeatures benchmark on the real Redis (tools/infra, REDIS_URL): the FeatureService handlers
 * on the Redis store behind a real gRPC server (in this process, on 127.0.0.1), for 1 entity ×
 * 32 features and 100 entities × 32 features, next to the floor measured in the same run on the
 * same data: a raw ioredis pipelined HMGET of the same fields (one HMGET per entity, one round
 * trip). Also the store alone (no gRPC) and an empty-ish gRPC round trip (ListFeatureViews), so
 * the overhead can be split. Prints p50/p99 at concurrency 1 and the ratios to the floor.
 *
 *   npx tsc -b apps/feature-service/tsconfig.lib.json && npx node tools/bench/feature-store.ts [seconds per run, default 3]
 *
 * A benchmark, not a test: figures depend on the machine; compare the ratios.
 */
import { randomUUID } from 'node:crypto';
import { FeatureService, FeatureStatus, ValueType } from '@scoregate/contracts';
import { createRpcClient, createRpcServer } from '@scoregate/rpc';
// The floor is raw ioredis on purpose: the store is measured against the client it is built on.
// eslint-disable-next-line no-restricted-imports
import { Redis } from 'ioredis';
// The store and handlers, from the build (a tool may reach into an app's build; apps may not).
import { createFeatureHandlers } from '../../apps/feature-service/dist/feature-handlers.js';
import type { FeatureScalar } from '../../apps/feature-service/dist/feature-store.js';
import { loadFeatureViews } from '../../apps/feature-service/dist/feature-views.js';
import { createRedisFeatureStore } from '../../apps/feature-service/dist/redis-store.js';
import {
  entityHashKey,
  eventTimeField,
  featureField,
} from '../../apps/feature-service/dist/redis-store-layout.js';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const seconds = Number(process.argv[2] ?? 3);
const VIEW = 'bench_stats';
const ENTITIES = 100;
const silent = { info() {}, warn() {}, error() {} };

interface Figures {
  p50: number;
  p99: number;
  calls: number;
}

/** A value of the feature's type, different for every entity and feature. */
function sampleValue(dtype: ValueType, n: number): FeatureScalar {
  switch (dtype) {
    case ValueType.INT64:
      return { case: 'int64Value', value: BigInt(n) };
    case ValueType.STRING:
      return { case: 'stringValue', value: `segment-${n % 7}` };
    case ValueType.BOOL:
      return { case: 'boolValue', value: n % 2 === 0 };
    default:
      return { case: 'doubleValue', value: n / 3 };
  }
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] as number;

/** Runs `op` in one loop (concurrency 1) for `ms` after a warm-up; latencies in microseconds. */
async function measure(op: () => Promise<unknown>, ms: number): Promise<Figures> {
  const warmEnd = Date.now() + Math.min(1000, ms / 4);
  while (Date.now() < warmEnd) await op();
  const latencies: number[] = [];
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const t = performance.now();
    await op();
    latencies.push((performance.now() - t) * 1000);
  }
  latencies.sort((a, b) => a - b);
  return { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), calls: latencies.length };
}

const catalog = await loadFeatureViews(new URL('./feature-store-views.json', import.meta.url));
const view = catalog.view(VIEW)!;
const refs = view.features.map((feature) => ({ view: VIEW, feature: feature.name }));
const refTexts = refs.map((ref) => `${ref.view}:${ref.feature}`);
const prefix = `sg:bench:${randomUUID().slice(0, 8)}:`;
const entities = Array.from({ length: ENTITIES }, (_, i) => ({
  entityType: 'customer',
  key: `c-${String(i).padStart(5, '0')}`,
}));

const store = createRedisFeatureStore({ catalog, url: REDIS_URL, keyPrefix: prefix });
await store.waitUntilReady(5_000);
const raw = new Redis(REDIS_URL);
const server = createRpcServer({ name: 'feature-bench', logger: silent });
server.register(FeatureService, createFeatureHandlers({ catalog, store }));
const port = await server.listen('127.0.0.1:0');
const client = createRpcClient(FeatureService, {
  address: `127.0.0.1:${port}`,
  defaultTimeoutMs: 5_000,
});

try {
  const eventTimeMs = Date.now() - 60_000;
  await store.write(
    entities.map((entity, e) => ({
      entity,
      view: VIEW,
      eventTimeMs,
      values: new Map(
        view.features.map((feature, f): [string, FeatureScalar] => [
          feature.name,
          sampleValue(feature.dtype, e * 32 + f),
        ]),
      ),
    })),
  );

  const fields = [...refs.map(featureField), eventTimeField(VIEW)];
  const keys = entities.map((entity) => entityHashKey(prefix, entity));
  const rawHmget = (count: number) => () => {
    const pipeline = raw.pipeline();
    for (const key of keys.slice(0, count)) pipeline.hmgetBuffer(key, ...fields);
    return pipeline.exec();
  };
  const grpc = (count: number) => () =>
    client.getFeatures({ entities: entities.slice(0, count), featureRefs: refTexts });
  const direct = (count: number) => () => store.read(entities.slice(0, count), refs);

  // Sanity: the service answers every value OK.
  const check = await grpc(ENTITIES)();
  const notOk = check.results
    .flatMap((r) => r.values)
    .filter((v) => v.status !== FeatureStatus.OK).length;
  if (notOk > 0) throw new Error(`${notOk} value(s) not OK in the check read`);

  const ms = seconds * 1000;
  const rows: [string, Figures, Figures | undefined][] = [];
  const emptyRoundTrip = await measure(() => client.listFeatureViews({}), ms);
  for (const count of [1, ENTITIES]) {
    const floor = await measure(rawHmget(count), ms);
    const storeOnly = await measure(direct(count), ms);
    const service = await measure(grpc(count), ms);
    const label = `${count} entit${count === 1 ? 'y' : 'ies'} × 32`;
    rows.push([`raw ioredis pipelined HMGET, ${label} (floor)`, floor, undefined]);
    rows.push([`RedisFeatureStore.read, ${label}`, storeOnly, floor]);
    rows.push([`GetFeatures over gRPC, ${label}`, service, floor]);
  }
  rows.push(['gRPC round trip, ListFeatureViews (floor of the RPC)', emptyRoundTrip, undefined]);

  const us = (value: number) => `${(value / 1000).toFixed(3)} ms`.padStart(12);
  console.log(
    `\nGetFeatures on Redis ${REDIS_URL}, concurrency 1, ${seconds} s per run (node ${process.version})\n`,
  );
  console.log(`${'what'.padEnd(62)}${'p50'.padStart(12)}${'p99'.padStart(12)}  ratio p50/p99`);
  for (const [what, figures, floor] of rows) {
    const ratio = floor
      ? `  ×${(figures.p50 / floor.p50).toFixed(2)} / ×${(figures.p99 / floor.p99).toFixed(2)}`
      : '';
    console.log(`${what.padEnd(62)}${us(figures.p50)}${us(figures.p99)}${ratio}`);
  }
} finally {
  client.close();
  await server.shutdown({ drainDelayMs: 0, graceMs: 1_000 });
  await store.close();
  const written = await raw.keys(`${prefix}*`);
  if (written.length > 0) await raw.del(...written);
  await raw.quit();
}

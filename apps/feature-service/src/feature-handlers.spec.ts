import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { durationMs, timestampFromMs, timestampMs } from '@bufbuild/protobuf/wkt';
import type { MessageInitShape } from '@bufbuild/protobuf';
import {
  FeatureService,
  FeatureStatus,
  ValueType,
  type FeatureValueSchema,
  type GetFeaturesRequestSchema,
  type WriteFeaturesRequestSchema,
} from '@scoregate/contracts';
import {
  Code,
  RpcError,
  createRpcClient,
  createRpcServer,
  type RpcClient,
  type RpcServer,
} from '@scoregate/rpc';
import { installTelemetryForTests } from '@scoregate/telemetry/testing';
import { featureClockSkewGuard } from './clock-skew.js';
import { defaultSeedFile, loadSeedRows } from './demo-seed.js';
import { createFeatureHandlers } from './feature-handlers.js';
import { defaultFeatureViewsFile, loadFeatureViews } from './feature-views.js';
import { createMemoryFeatureStore } from './memory-feature-store.js';

const silent = { info() {}, warn() {}, error() {} };
const HOUR = 3_600_000;
const START_MS = Date.UTC(2026, 0, 15, 12);
const clock = { now: START_MS };
const telemetry = installTelemetryForTests();

let server: RpcServer;
let client: RpcClient<typeof FeatureService>;
let demo: { entityType: string; key: string; features: Record<string, number> }[];

beforeAll(async () => {
  const catalog = await loadFeatureViews(defaultFeatureViewsFile);
  const store = createMemoryFeatureStore({ catalog, clock: () => clock.now });
  await store.write(await loadSeedRows(defaultSeedFile, catalog, START_MS));
  demo = JSON.parse(await readFile(defaultSeedFile, 'utf8')) as typeof demo;

  server = createRpcServer({ name: 'feature-service-test', logger: silent });
  const clockSkew = featureClockSkewGuard({ toleranceMs: 5_000, now: () => clock.now });
  server.register(FeatureService, createFeatureHandlers({ catalog, store, clockSkew }));
  const port = await server.listen('127.0.0.1:0');
  client = createRpcClient(FeatureService, {
    address: `127.0.0.1:${port}`,
    defaultTimeoutMs: 5_000,
  });
});

afterAll(async () => {
  client?.close();
  await server?.shutdown({ drainDelayMs: 0, graceMs: 1_000 });
});

const ALL_REFS = [
  'signal_snr_db',
  'error_rate_1h',
  'reboots_24h',
  'tickets_30d',
  'outage_minutes_7d',
  'modem_age_months',
  'plan_tier',
  'calls_7d',
].map((feature) => `customer_stats:${feature}`);
const INT_FEATURES = new Set([
  'reboots_24h',
  'tickets_30d',
  'modem_age_months',
  'plan_tier',
  'calls_7d',
]);
const customer = (key: string) => ({ entityType: 'customer', key });

async function failure(call: Promise<unknown>): Promise<RpcError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'the call should have failed').toBeInstanceOf(RpcError);
  return error as RpcError;
}

interface RowInit {
  entity?: { entityType?: string; key?: string } | undefined;
  view?: string;
  values?: Record<string, MessageInitShape<typeof FeatureValueSchema>>;
  eventTime?: { seconds?: bigint; nanos?: number } | undefined;
}

function row(overrides: RowInit = {}): RowInit {
  return {
    entity: customer('c-0001'),
    view: 'customer_stats',
    values: { tickets_30d: { kind: { case: 'int64Value', value: 4n } } },
    eventTime: timestampFromMs(START_MS + HOUR),
    ...overrides,
  };
}

describe('GetFeatures', () => {
  it('answers demo customer c-0001 with the values of demo-entities.json, typed per dtype, OK and stamped at seed time', async () => {
    clock.now = START_MS + HOUR;
    const response = await client.getFeatures({
      entities: [customer('c-0001')],
      featureRefs: ALL_REFS,
    });
    const expected = demo.find((entity) => entity.key === 'c-0001')!.features;
    expect(response.results).toHaveLength(1);
    const [result] = response.results;
    expect(result!.entity).toMatchObject(customer('c-0001'));
    expect(result!.values.map((v) => v.ref)).toEqual(ALL_REFS);
    for (const value of result!.values) {
      const feature = value.ref.split(':')[1]!;
      expect(value.status, value.ref).toBe(FeatureStatus.OK);
      expect(timestampMs(value.eventTime!)).toBe(START_MS);
      expect(value.value?.kind, value.ref).toEqual(
        INT_FEATURES.has(feature)
          ? { case: 'int64Value', value: BigInt(expected[feature]!) }
          : { case: 'doubleValue', value: expected[feature] },
      );
    }
  });

  it('answers entities in request order, duplicates included, MISSING for unknown keys and for other entity types', async () => {
    clock.now = START_MS + HOUR;
    const response = await client.getFeatures({
      entities: [
        customer('c-0002'),
        customer('nobody'),
        { entityType: 'site', key: 'c-0001' },
        customer('c-0002'),
      ],
      featureRefs: ['customer_stats:calls_7d'],
    });
    expect(response.results.map((r) => r.entity?.key)).toEqual([
      'c-0002',
      'nobody',
      'c-0001',
      'c-0002',
    ]);
    expect(response.results.map((r) => r.values[0]!.status)).toEqual([
      FeatureStatus.OK,
      FeatureStatus.MISSING,
      FeatureStatus.MISSING,
      FeatureStatus.OK,
    ]);
    const missing = response.results[1]!.values[0]!;
    expect(missing.value).toBeUndefined();
    expect(missing.eventTime).toBeUndefined();
  });

  it('returns the value as STALE once it is older than max age', async () => {
    clock.now = START_MS + 24 * HOUR + 1;
    const response = await client.getFeatures({
      entities: [customer('c-0003')],
      featureRefs: ['customer_stats:plan_tier'],
    });
    const value = response.results[0]!.values[0]!;
    expect(value.status).toBe(FeatureStatus.STALE);
    expect(value.value?.kind).toEqual({
      case: 'int64Value',
      value: BigInt(demo.find((e) => e.key === 'c-0003')!.features.plan_tier!),
    });
    clock.now = START_MS + HOUR;
  });

  const tooManyEntities = Array.from({ length: 1001 }, (_, i) => customer(`c-${i}`));
  const tooManyRefs = Array.from({ length: 513 }, (_, i) => `customer_stats:f${i}`);
  const badReads: [string, MessageInitShape<typeof GetFeaturesRequestSchema>, Code, string][] = [
    [
      'no entity',
      { entities: [], featureRefs: ALL_REFS },
      Code.INVALID_ARGUMENT,
      'entities: at least one entity is required',
    ],
    [
      'too many entities',
      { entities: tooManyEntities, featureRefs: ALL_REFS },
      Code.INVALID_ARGUMENT,
      'entities: at most 1000 entities are allowed, got 1001',
    ],
    [
      'an empty key',
      { entities: [customer('a'), customer('b'), customer('')], featureRefs: ALL_REFS },
      Code.INVALID_ARGUMENT,
      'entities[2].key: is required',
    ],
    [
      'a key over 256 bytes',
      { entities: [customer('é'.repeat(129))], featureRefs: ALL_REFS },
      Code.INVALID_ARGUMENT,
      'entities[0].key: must be at most 256 bytes of UTF-8, got 258',
    ],
    [
      'an empty entity type',
      { entities: [customer('a'), { key: 'b' }], featureRefs: ALL_REFS },
      Code.INVALID_ARGUMENT,
      'entities[1].entity_type: is required',
    ],
    [
      'a malformed entity type',
      { entities: [{ entityType: 'Customer', key: 'c-0001' }], featureRefs: ALL_REFS },
      Code.INVALID_ARGUMENT,
      'entities[0].entity_type: must be a Scoregate name (^[a-z0-9][a-z0-9_-]{0,62}$), got "Customer"',
    ],
    [
      'no feature ref',
      { entities: [customer('c-0001')], featureRefs: [] },
      Code.INVALID_ARGUMENT,
      'feature_refs: at least one feature ref is required',
    ],
    [
      'too many feature refs',
      { entities: [customer('c-0001')], featureRefs: tooManyRefs },
      Code.INVALID_ARGUMENT,
      'feature_refs: at most 512 feature refs are allowed, got 513',
    ],
    [
      'a malformed ref',
      { entities: [customer('c-0001')], featureRefs: [ALL_REFS[0]!, 'customer_stats.calls_7d'] },
      Code.INVALID_ARGUMENT,
      'feature_refs[1]: must be "view:feature" (two Scoregate names), got "customer_stats.calls_7d"',
    ],
    [
      'a duplicate ref',
      { entities: [customer('c-0001')], featureRefs: [ALL_REFS[0]!, ALL_REFS[1]!, ALL_REFS[0]!] },
      Code.INVALID_ARGUMENT,
      'feature_refs[2]: duplicate of feature_refs[0] ("customer_stats:signal_snr_db")',
    ],
    [
      'an unknown feature',
      { entities: [customer('c-0001')], featureRefs: [ALL_REFS[0]!, 'customer_stats:x'] },
      Code.NOT_FOUND,
      'feature_refs[1]: unknown feature "x" in view "customer_stats"',
    ],
    [
      'an unknown view',
      { entities: [customer('c-0001')], featureRefs: ['site_stats:calls_7d'] },
      Code.NOT_FOUND,
      'feature_refs[0]: unknown view "site_stats"',
    ],
  ];
  it.each(badReads)('refuses %s, naming the field', async (_, request, code, message) => {
    const error = await failure(client.getFeatures(request));
    expect(error.message).toBe(message);
    expect(error.code).toBe(code);
    expect(error.violations[0]?.field).toBe(message.slice(0, message.indexOf(': ')));
  });
});

describe('WriteFeatures', () => {
  it('writes a row that GetFeatures then returns, and skips an older one', async () => {
    clock.now = START_MS + 2 * HOUR;
    const written = await client.writeFeatures({
      rows: [
        row({
          entity: customer('c-0009'),
          values: { tickets_30d: { kind: { case: 'int64Value', value: 9n } } },
        }),
      ],
    });
    expect(written).toMatchObject({ applied: 1, skippedOlder: 0 });
    const older = await client.writeFeatures({
      rows: [
        row({
          entity: customer('c-0009'),
          values: { tickets_30d: { kind: { case: 'int64Value', value: 1n } } },
          eventTime: timestampFromMs(START_MS + HOUR / 2),
        }),
      ],
    });
    expect(older).toMatchObject({ applied: 0, skippedOlder: 1 });

    const read = await client.getFeatures({
      entities: [customer('c-0009')],
      featureRefs: ['customer_stats:tickets_30d', 'customer_stats:calls_7d'],
    });
    const [tickets, calls] = read.results[0]!.values;
    expect(tickets).toMatchObject({
      status: FeatureStatus.OK,
      value: { kind: { case: 'int64Value', value: 9n } },
    });
    expect(timestampMs(tickets!.eventTime!)).toBe(START_MS + HOUR);
    // Features the row did not list keep their value (and take the row's event time).
    expect(calls!.value?.kind).toEqual({
      case: 'int64Value',
      value: BigInt(demo.find((e) => e.key === 'c-0009')!.features.calls_7d!),
    });
  });

  it('writes nothing when any row of the request is bad', async () => {
    const before = await client.getFeatures({
      entities: [customer('c-0004')],
      featureRefs: ['customer_stats:tickets_30d'],
    });
    const error = await failure(
      client.writeFeatures({
        rows: [
          row({
            entity: customer('c-0004'),
            values: { tickets_30d: { kind: { case: 'int64Value', value: 99n } } },
          }),
          row({ values: { tickets_30d: { kind: { case: 'doubleValue', value: 1.5 } } } }),
        ],
      }),
    );
    expect(error.code).toBe(Code.INVALID_ARGUMENT);
    const after = await client.getFeatures({
      entities: [customer('c-0004')],
      featureRefs: ['customer_stats:tickets_30d'],
    });
    expect(after.results[0]!.values[0]!.value).toEqual(before.results[0]!.values[0]!.value);
  });

  const tooManyRows = Array.from({ length: 1001 }, () => row());
  const badWrites: [string, MessageInitShape<typeof WriteFeaturesRequestSchema>, Code, string][] = [
    ['no row', { rows: [] }, Code.INVALID_ARGUMENT, 'rows: at least one row is required'],
    [
      'too many rows',
      { rows: tooManyRows },
      Code.INVALID_ARGUMENT,
      'rows: at most 1000 rows are allowed, got 1001',
    ],
    [
      'a row without entity',
      { rows: [row(), row({ entity: undefined })] },
      Code.INVALID_ARGUMENT,
      'rows[1].entity: is required',
    ],
    [
      'an empty key',
      { rows: [row({ entity: customer('') })] },
      Code.INVALID_ARGUMENT,
      'rows[0].entity.key: is required',
    ],
    [
      'a row without view',
      { rows: [row({ view: '' })] },
      Code.INVALID_ARGUMENT,
      'rows[0].view: is required',
    ],
    [
      'an unknown view',
      { rows: [row({ view: 'site_stats' })] },
      Code.NOT_FOUND,
      'rows[0].view: unknown view "site_stats"',
    ],
    [
      "an entity type other than the view's",
      { rows: [row({ entity: { entityType: 'site', key: 's-1' } })] },
      Code.INVALID_ARGUMENT,
      'rows[0].entity.entity_type: must be "customer" (the entity type of view "customer_stats"), got "site"',
    ],
    [
      'a row without values',
      { rows: [row({ values: {} })] },
      Code.INVALID_ARGUMENT,
      'rows[0].values: at least one value is required',
    ],
    [
      'an unknown feature',
      { rows: [row({ values: { x: { kind: { case: 'int64Value', value: 1n } } } })] },
      Code.NOT_FOUND,
      'rows[0].values["x"]: unknown feature "x" in view "customer_stats"',
    ],
    [
      'a double for an int64 feature',
      { rows: [row({ values: { tickets_30d: { kind: { case: 'doubleValue', value: 2 } } } })] },
      Code.INVALID_ARGUMENT,
      'rows[0].values["tickets_30d"]: expected int64, got double',
    ],
    [
      'a string for a double feature',
      {
        rows: [
          row({ values: { signal_snr_db: { kind: { case: 'stringValue', value: 'high' } } } }),
        ],
      },
      Code.INVALID_ARGUMENT,
      'rows[0].values["signal_snr_db"]: expected double, got string',
    ],
    [
      'a NaN',
      {
        rows: [
          row({ values: { signal_snr_db: { kind: { case: 'doubleValue', value: Number.NaN } } } }),
        ],
      },
      Code.INVALID_ARGUMENT,
      'rows[0].values["signal_snr_db"]: must be a finite number, got NaN',
    ],
    [
      'an infinite value in a later row',
      {
        rows: [
          row({}),
          row({
            values: { error_rate_1h: { kind: { case: 'doubleValue', value: Infinity } } },
          }),
        ],
      },
      Code.INVALID_ARGUMENT,
      'rows[1].values["error_rate_1h"]: must be a finite number, got Infinity',
    ],
    [
      'a negative infinity',
      {
        rows: [
          row({
            values: { signal_snr_db: { kind: { case: 'doubleValue', value: -Infinity } } },
          }),
        ],
      },
      Code.INVALID_ARGUMENT,
      'rows[0].values["signal_snr_db"]: must be a finite number, got -Infinity',
    ],
    [
      'a row without event time',
      { rows: [row({ eventTime: undefined })] },
      Code.INVALID_ARGUMENT,
      'rows[0].event_time: is required',
    ],
    [
      'an out-of-range event time',
      { rows: [row({ eventTime: { seconds: 253_402_300_800n } })] },
      Code.INVALID_ARGUMENT,
      'rows[0].event_time: must be a valid timestamp between years 1 and 9999',
    ],
  ];
  it.each(badWrites)('refuses %s, naming the field', async (_, request, code, message) => {
    const error = await failure(client.writeFeatures(request));
    expect(error.message).toBe(message);
    expect(error.code).toBe(code);
    expect(error.violations[0]?.field).toBe(message.slice(0, message.indexOf(': ')));
  });
});

describe('WriteFeatures, clock skew', () => {
  const refusedRows = async (source: string) =>
    (await telemetry.collect('scoregate.feature.clock_skew.refused'))
      .filter((p) => p.attributes['source'] === source && p.attributes['path'] === 'rpc')
      .reduce((sum, p) => sum + p.value, 0);
  const tickets = async (key: string) => {
    const read = await client.getFeatures({
      entities: [customer(key)],
      featureRefs: ['customer_stats:tickets_30d'],
    });
    return read.results[0]!.values[0]!;
  };

  it('refuses a row stamped an hour ahead of its clock, naming the row and the skew, counted per source; the stored value is unchanged and later writes still win', async () => {
    clock.now = START_MS + 3 * HOUR;
    const before = await tickets('c-0006');
    const future = row({
      entity: customer('c-0006'),
      values: { tickets_30d: { kind: { case: 'int64Value', value: 99n } } },
      eventTime: timestampFromMs(clock.now + HOUR),
    });
    const now = row({
      entity: customer('c-0007'),
      eventTime: timestampFromMs(clock.now),
    });
    const error = await failure(
      client.writeFeatures({ rows: [now, future], source: 'billing-cdc' }),
    );
    expect(error.code).toBe(Code.INVALID_ARGUMENT);
    expect(error.violations[0]?.field).toBe('rows[1].event_time');
    expect(error.message).toBe(
      `rows[1].event_time: is 1 h 0 min ahead of the feature-service's clock (tolerance 5.0 s): a value stamped in the future would win every later write and never turn STALE; check the clock of source "billing-cdc" (NTP)`,
    );
    expect(await refusedRows('billing-cdc')).toBe(1);
    // Refused whole: neither row was written.
    expect(await tickets('c-0006')).toEqual(before);

    // A later write at the true time is not beaten by the refused one.
    clock.now += 1_000;
    const written = await client.writeFeatures({
      rows: [
        row({
          entity: customer('c-0006'),
          values: { tickets_30d: { kind: { case: 'int64Value', value: 7n } } },
          eventTime: timestampFromMs(clock.now),
        }),
      ],
      source: 'billing-cdc',
    });
    expect(written).toMatchObject({ applied: 1, skippedOlder: 0 });
    expect((await tickets('c-0006')).value?.kind).toEqual({ case: 'int64Value', value: 7n });
  });

  it('accepts a row within the tolerance, and counts a refusal without a source as unnamed', async () => {
    clock.now = START_MS + 4 * HOUR;
    const within = await client.writeFeatures({
      rows: [row({ entity: customer('c-0008'), eventTime: timestampFromMs(clock.now + 4_000) })],
    });
    expect(within).toMatchObject({ applied: 1 });
    const unnamedBefore = await refusedRows('unnamed');
    const error = await failure(
      client.writeFeatures({
        rows: [row({ entity: customer('c-0008'), eventTime: timestampFromMs(clock.now + 6_000) })],
      }),
    );
    expect(error.message).toBe(
      `rows[0].event_time: is 6.0 s ahead of the feature-service's clock (tolerance 5.0 s): a value stamped in the future would win every later write and never turn STALE; check the clock of the producer (NTP)`,
    );
    expect(await refusedRows('unnamed')).toBe(unnamedBefore + 1);
  });

  it('refuses a source longer than 128 bytes, naming the field', async () => {
    const error = await failure(client.writeFeatures({ rows: [row()], source: 'x'.repeat(129) }));
    expect(error.code).toBe(Code.INVALID_ARGUMENT);
    expect(error.message).toBe('source: must be at most 128 bytes of UTF-8, got 129');
  });
});

describe('ListFeatureViews', () => {
  it('returns customer_stats with its entity type, version, max age, ttl and typed features', async () => {
    const { views } = await client.listFeatureViews({});
    expect(views.map((v) => v.name)).toEqual(['customer_stats']);
    const [view] = views;
    expect(view!.entityType).toBe('customer');
    expect(view!.version).toBe('1');
    expect(durationMs(view!.maxAge!)).toBe(24 * HOUR);
    expect(durationMs(view!.ttl!)).toBe(7 * 24 * HOUR);
    expect(view!.features.map((f) => `${f.name}:${f.dtype}`)).toEqual(
      ALL_REFS.map((ref) => ref.split(':')[1]!).map(
        (name) => `${name}:${INT_FEATURES.has(name) ? ValueType.INT64 : ValueType.DOUBLE}`,
      ),
    );
    expect(view!.features.every((f) => f.description.length > 0)).toBe(true);
  });
});

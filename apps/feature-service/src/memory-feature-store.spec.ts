import { describe, expect, it } from 'vitest';
import type { FeatureRowWrite, FeatureScalar } from './feature-store.js';
import { parseFeatureViews } from './feature-views.js';
import { createMemoryFeatureStore } from './memory-feature-store.js';

const HOUR = 3_600_000;
const catalog = parseFeatureViews(
  {
    views: [
      {
        name: 'customer_stats',
        entityType: 'customer',
        version: '1',
        maxAge: '24h',
        ttl: '7d',
        features: [
          { name: 'signal_snr_db', dtype: 'double' },
          { name: 'tickets_30d', dtype: 'int64' },
        ],
      },
    ],
  },
  'test',
);
const customer = { entityType: 'customer', key: 'c-1' };
const snr = { view: 'customer_stats', feature: 'signal_snr_db' };
const tickets = { view: 'customer_stats', feature: 'tickets_30d' };
const double = (value: number): FeatureScalar => ({ case: 'doubleValue', value });
const int64 = (value: bigint): FeatureScalar => ({ case: 'int64Value', value });

function row(
  eventTimeMs: number,
  values: Record<string, FeatureScalar | undefined>,
  entity = customer,
): FeatureRowWrite {
  return { entity, view: 'customer_stats', values: new Map(Object.entries(values)), eventTimeMs };
}

function storeAt(startMs: number) {
  const clock = { now: startMs };
  const store = createMemoryFeatureStore({ catalog, clock: () => clock.now });
  return { store, clock };
}

describe('memory feature store', () => {
  it('reads back written values with their event time, OK while fresh', async () => {
    const { store } = storeAt(1_000 * HOUR);
    await store.write([row(999 * HOUR, { signal_snr_db: double(24.5), tickets_30d: int64(3n) })]);
    const [[a, b]] = (await store.read([customer], [snr, tickets])) as [[unknown, unknown]];
    expect(a).toEqual({ status: 'ok', value: double(24.5), eventTimeMs: 999 * HOUR });
    expect(b).toEqual({ status: 'ok', value: int64(3n), eventTimeMs: 999 * HOUR });
  });

  it('skips a write older than the stored row and keeps the newer value', async () => {
    const { store } = storeAt(100 * HOUR);
    expect(await store.write([row(90 * HOUR, { tickets_30d: int64(5n) })])).toEqual({
      applied: 1,
      skippedOlder: 0,
    });
    expect(await store.write([row(80 * HOUR, { tickets_30d: int64(1n) })])).toEqual({
      applied: 0,
      skippedOlder: 1,
    });
    const [[reading]] = (await store.read([customer], [tickets])) as [[unknown]];
    expect(reading).toEqual({ status: 'ok', value: int64(5n), eventTimeMs: 90 * HOUR });
  });

  it('overwrites on an equal event time, keeps unlisted features and clears unset ones', async () => {
    const { store } = storeAt(100 * HOUR);
    await store.write([row(90 * HOUR, { signal_snr_db: double(20), tickets_30d: int64(5n) })]);
    expect(await store.write([row(90 * HOUR, { tickets_30d: int64(6n) })])).toEqual({
      applied: 1,
      skippedOlder: 0,
    });
    let [[a, b]] = (await store.read([customer], [snr, tickets])) as [[unknown, unknown]];
    expect(a).toEqual({ status: 'ok', value: double(20), eventTimeMs: 90 * HOUR });
    expect(b).toEqual({ status: 'ok', value: int64(6n), eventTimeMs: 90 * HOUR });

    await store.write([row(91 * HOUR, { signal_snr_db: undefined })]);
    [[a, b]] = (await store.read([customer], [snr, tickets])) as [[unknown, unknown]];
    expect(a).toEqual({ status: 'missing' });
    expect(b).toEqual({ status: 'ok', value: int64(6n), eventTimeMs: 91 * HOUR });
  });

  it('counts applied and skipped rows of one request in order', async () => {
    const { store } = storeAt(100 * HOUR);
    const outcome = await store.write([
      row(10 * HOUR, { tickets_30d: int64(1n) }),
      row(12 * HOUR, { tickets_30d: int64(2n) }),
      row(11 * HOUR, { tickets_30d: int64(3n) }),
    ]);
    expect(outcome).toEqual({ applied: 2, skippedOlder: 1 });
    const [[reading]] = (await store.read([customer], [tickets])) as [[unknown]];
    expect(reading).toMatchObject({ value: int64(2n) });
  });

  it('turns STALE exactly when the age passes max age (24h), measured on the injected clock', async () => {
    const eventTimeMs = 500 * HOUR;
    const { store, clock } = storeAt(eventTimeMs);
    await store.write([row(eventTimeMs, { tickets_30d: int64(7n) })]);

    clock.now = eventTimeMs + 24 * HOUR;
    expect((await store.read([customer], [tickets]))[0]![0]).toMatchObject({ status: 'ok' });
    clock.now = eventTimeMs + 24 * HOUR + 1;
    expect((await store.read([customer], [tickets]))[0]![0]).toEqual({
      status: 'stale',
      value: int64(7n),
      eventTimeMs,
    });
  });

  it('reads MISSING past the ttl (7d), and then accepts an older write again', async () => {
    const eventTimeMs = 500 * HOUR;
    const { store, clock } = storeAt(eventTimeMs);
    await store.write([row(eventTimeMs, { tickets_30d: int64(7n) })]);
    clock.now = eventTimeMs + 7 * 24 * HOUR;
    expect((await store.read([customer], [tickets]))[0]![0]).toMatchObject({ status: 'stale' });
    clock.now = eventTimeMs + 7 * 24 * HOUR + 1;
    expect((await store.read([customer], [tickets]))[0]![0]).toEqual({ status: 'missing' });

    expect(await store.write([row(clock.now - HOUR * 2, { tickets_30d: int64(8n) })])).toEqual({
      applied: 1,
      skippedOlder: 0,
    });
  });

  it('reads MISSING for a never-written entity and for an entity of another type than the view', async () => {
    const { store } = storeAt(100 * HOUR);
    await store.write([row(99 * HOUR, { tickets_30d: int64(1n) })]);
    const readings = await store.read(
      [
        { entityType: 'customer', key: 'c-404' },
        { entityType: 'site', key: 'c-1' },
        { entityType: 'customer', key: 'C-1' },
      ],
      [tickets],
    );
    expect(readings).toEqual([
      [{ status: 'missing' }],
      [{ status: 'missing' }],
      [{ status: 'missing' }],
    ]);
  });

  it('refuses to read once the caller has given up', async () => {
    const { store } = storeAt(0);
    const controller = new AbortController();
    controller.abort(new Error('gone'));
    await expect(store.read([customer], [tickets], { signal: controller.signal })).rejects.toThrow(
      'gone',
    );
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import type {
  EntityRef,
  FeatureReading,
  FeatureRowWrite,
  FeatureScalar,
  FeatureStore,
} from './feature-store.js';
import { parseFeatureViews, type FeatureCatalog } from './feature-views.js';

/**
 * The behaviour every FeatureStore must have, run against each implementation by its spec. The
 * clock is injected; event times stay near the real time so that a server-side expiry (Redis)
 * never drops what a test still reads.
 */
export interface StoreUnderTest {
  readonly store: FeatureStore;
  /** Releases the store and removes what the test wrote. */
  cleanup(): Promise<void>;
}

export type StoreFactory = (
  catalog: FeatureCatalog,
  clock: () => number,
) => Promise<StoreUnderTest>;

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

export const behaviourCatalog = parseFeatureViews(
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
          { name: 'segment', dtype: 'string' },
          { name: 'churned', dtype: 'bool' },
        ],
      },
      {
        name: 'customer_profile',
        entityType: 'customer',
        version: '1',
        maxAge: '30d',
        features: [{ name: 'plan_tier', dtype: 'int64' }],
      },
      {
        name: 'site_stats',
        entityType: 'site',
        version: '1',
        maxAge: '1h',
        ttl: '2h',
        features: [{ name: 'load', dtype: 'double' }],
      },
    ],
  },
  'behaviour',
);

const customer = { entityType: 'customer', key: 'c-1' };
const snr = { view: 'customer_stats', feature: 'signal_snr_db' };
const tickets = { view: 'customer_stats', feature: 'tickets_30d' };
const segment = { view: 'customer_stats', feature: 'segment' };
const churned = { view: 'customer_stats', feature: 'churned' };
const tier = { view: 'customer_profile', feature: 'plan_tier' };
const load = { view: 'site_stats', feature: 'load' };
export const double = (value: number): FeatureScalar => ({ case: 'doubleValue', value });
export const int64 = (value: bigint): FeatureScalar => ({ case: 'int64Value', value });
const string = (value: string): FeatureScalar => ({ case: 'stringValue', value });
const bool = (value: boolean): FeatureScalar => ({ case: 'boolValue', value });

function row(
  eventTimeMs: number,
  values: Record<string, FeatureScalar | undefined>,
  entity: EntityRef = customer,
  view = 'customer_stats',
): FeatureRowWrite {
  return { entity, view, values: new Map(Object.entries(values)), eventTimeMs };
}

export function describeFeatureStoreBehaviour(name: string, factory: StoreFactory): void {
  describe(`${name}: FeatureStore behaviour`, () => {
    // The real time: what a test writes stays ahead of a server-side expiry.
    const base = Date.now();
    const opened: StoreUnderTest[] = [];
    async function storeAt(startMs: number) {
      const clock = { now: startMs };
      const underTest = await factory(behaviourCatalog, () => clock.now);
      opened.push(underTest);
      return { store: underTest.store, clock };
    }
    const readOne = async (store: FeatureStore, ref = tickets, entity = customer) =>
      (await store.read([entity], [ref]))[0]![0]!;

    afterEach(async () => {
      await Promise.all(opened.splice(0).map((underTest) => underTest.cleanup()));
    });

    it('reads back values of every type with their event time, OK while fresh', async () => {
      const { store } = await storeAt(base);
      const values = {
        signal_snr_db: double(-24.12345678901234),
        tickets_30d: int64(-9_223_372_036_854_775_808n),
        segment: string('prémium:✓'),
        churned: bool(false),
      };
      await store.write([row(base - HOUR, values)]);
      const readings = await store.read([customer], [snr, tickets, segment, churned]);
      expect(readings).toEqual([
        Object.values(values).map((value) => ({ status: 'ok', value, eventTimeMs: base - HOUR })),
      ]);

      await store.write([
        row(base - HOUR, { tickets_30d: int64(9_223_372_036_854_775_807n), churned: bool(true) }),
      ]);
      expect(await store.read([customer], [tickets, churned])).toEqual([
        [
          { status: 'ok', value: int64(9_223_372_036_854_775_807n), eventTimeMs: base - HOUR },
          { status: 'ok', value: bool(true), eventTimeMs: base - HOUR },
        ],
      ]);
    });

    it('skips a write older than the stored row and keeps the newer value', async () => {
      const { store } = await storeAt(base);
      expect(await store.write([row(base - 10 * HOUR, { tickets_30d: int64(5n) })])).toEqual({
        applied: 1,
        skippedOlder: 0,
      });
      expect(await store.write([row(base - 20 * HOUR, { tickets_30d: int64(1n) })])).toEqual({
        applied: 0,
        skippedOlder: 1,
      });
      expect(await readOne(store)).toEqual({
        status: 'ok',
        value: int64(5n),
        eventTimeMs: base - 10 * HOUR,
      });
    });

    it('overwrites on an equal event time, keeps unlisted features and clears unset ones', async () => {
      const { store } = await storeAt(base);
      const t = base - 10 * HOUR;
      await store.write([row(t, { signal_snr_db: double(20), tickets_30d: int64(5n) })]);
      expect(await store.write([row(t, { tickets_30d: int64(6n) })])).toEqual({
        applied: 1,
        skippedOlder: 0,
      });
      expect(await store.read([customer], [snr, tickets])).toEqual([
        [
          { status: 'ok', value: double(20), eventTimeMs: t },
          { status: 'ok', value: int64(6n), eventTimeMs: t },
        ],
      ]);

      await store.write([row(t + HOUR, { signal_snr_db: undefined })]);
      expect(await store.read([customer], [snr, tickets])).toEqual([
        [{ status: 'missing' }, { status: 'ok', value: int64(6n), eventTimeMs: t + HOUR }],
      ]);
    });

    it('counts applied and skipped rows of one request in order', async () => {
      const { store } = await storeAt(base);
      const outcome = await store.write([
        row(base - 12 * HOUR, { tickets_30d: int64(1n) }),
        row(base - 10 * HOUR, { tickets_30d: int64(2n) }),
        row(base - 11 * HOUR, { tickets_30d: int64(3n) }),
      ]);
      expect(outcome).toEqual({ applied: 2, skippedOlder: 1 });
      expect(await readOne(store)).toMatchObject({ value: int64(2n) });
    });

    it('keeps the event time of each view apart: an older row of one view is applied next to a newer row of another', async () => {
      const { store } = await storeAt(base);
      await store.write([row(base - HOUR, { tickets_30d: int64(1n) })]);
      expect(
        await store.write([
          row(base - 5 * HOUR, { plan_tier: int64(3n) }, customer, 'customer_profile'),
        ]),
      ).toEqual({ applied: 1, skippedOlder: 0 });
      expect(await store.read([customer], [tickets, tier])).toEqual([
        [
          { status: 'ok', value: int64(1n), eventTimeMs: base - HOUR },
          { status: 'ok', value: int64(3n), eventTimeMs: base - 5 * HOUR },
        ],
      ]);
    });

    it('turns STALE exactly when the age passes max age (24h), measured on the injected clock', async () => {
      const eventTimeMs = base - 2 * HOUR;
      const { store, clock } = await storeAt(eventTimeMs);
      await store.write([row(eventTimeMs, { tickets_30d: int64(7n) })]);

      clock.now = eventTimeMs + DAY;
      expect(await readOne(store)).toEqual({ status: 'ok', value: int64(7n), eventTimeMs });
      clock.now = eventTimeMs + DAY + 1;
      expect(await readOne(store)).toEqual({ status: 'stale', value: int64(7n), eventTimeMs });
    });

    it('reads MISSING past the ttl (7d), then accepts an older write, without bringing back the expired values', async () => {
      const eventTimeMs = base - 2 * HOUR;
      const { store, clock } = await storeAt(eventTimeMs);
      await store.write([row(eventTimeMs, { tickets_30d: int64(7n), segment: string('gold') })]);
      // The profile view (no ttl) keeps the entity alive next to the expired stats.
      await store.write([row(eventTimeMs, { plan_tier: int64(2n) }, customer, 'customer_profile')]);
      clock.now = eventTimeMs + 7 * DAY;
      expect(await readOne(store)).toMatchObject({ status: 'stale' });
      clock.now = eventTimeMs + 7 * DAY + 1;
      expect(await readOne(store)).toEqual({ status: 'missing' });

      expect(await store.write([row(eventTimeMs - HOUR, { tickets_30d: int64(8n) })])).toEqual({
        applied: 1,
        skippedOlder: 0,
      });
      clock.now = eventTimeMs;
      expect(await store.read([customer], [tickets, segment, tier])).toEqual([
        [
          { status: 'ok', value: int64(8n), eventTimeMs: eventTimeMs - HOUR },
          { status: 'missing' },
          { status: 'ok', value: int64(2n), eventTimeMs },
        ],
      ]);
    });

    it('reads MISSING for a never-written entity, an entity of another type than the view, and another key case', async () => {
      const { store } = await storeAt(base);
      await store.write([row(base - HOUR, { tickets_30d: int64(1n) })]);
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

    it('keeps entity keys apart whatever bytes they hold (colons, unicode, prefixes of each other)', async () => {
      const { store } = await storeAt(base);
      const keys = ['a', 'a:b', 'a:b:c', 'é', 'e\u0301', 'a b'];
      await store.write(
        keys.map((key, i) =>
          row(base - HOUR, { tickets_30d: int64(BigInt(i)) }, { entityType: 'customer', key }),
        ),
      );
      const readings = await store.read(
        keys.map((key) => ({ entityType: 'customer', key })),
        [tickets],
      );
      expect(readings.map(([reading]) => (reading as { value?: FeatureScalar }).value)).toEqual(
        keys.map((_, i) => int64(BigInt(i))),
      );
    });

    it('answers 200 entities × refs of three views and two entity types in one read, in request order, duplicates included', async () => {
      const { store } = await storeAt(base);
      const customers = Array.from({ length: 150 }, (_, i) => ({
        entityType: 'customer',
        key: `c-${i}`,
      }));
      const sites = Array.from({ length: 50 }, (_, i) => ({ entityType: 'site', key: `s-${i}` }));
      await store.write(
        customers
          .filter((_, i) => i % 3 !== 0)
          .map((entity) =>
            row(
              base - HOUR,
              {
                signal_snr_db: double(Number(entity.key.slice(2)) / 4),
                tickets_30d: int64(BigInt(entity.key.slice(2))),
              },
              entity,
            ),
          ),
      );
      await store.write(
        customers.map((entity) =>
          row(base - 40 * DAY, { plan_tier: int64(1n) }, entity, 'customer_profile'),
        ),
      );
      await store.write(
        sites.map((entity, i) => row(base - HOUR / 2, { load: double(i) }, entity, 'site_stats')),
      );
      const entities = [...customers, ...sites, customers[1]!, sites[1]!];
      const refs = [snr, tier, load, tickets];
      const readings = await store.read(entities, refs);

      const expected = entities.map((entity): FeatureReading[] => {
        const n = Number(entity.key.slice(2));
        if (entity.entityType === 'site') {
          const site: FeatureReading = {
            status: 'ok',
            value: double(n),
            eventTimeMs: base - HOUR / 2,
          };
          return [{ status: 'missing' }, { status: 'missing' }, site, { status: 'missing' }];
        }
        const profile: FeatureReading = {
          status: 'stale',
          value: int64(1n),
          eventTimeMs: base - 40 * DAY,
        };
        if (n % 3 === 0)
          return [{ status: 'missing' }, profile, { status: 'missing' }, { status: 'missing' }];
        return [
          { status: 'ok', value: double(n / 4), eventTimeMs: base - HOUR },
          profile,
          { status: 'missing' },
          { status: 'ok', value: int64(BigInt(n)), eventTimeMs: base - HOUR },
        ];
      });
      expect(readings).toEqual(expected);
    });

    it('refuses to read once the caller has given up', async () => {
      const { store } = await storeAt(base);
      const controller = new AbortController();
      controller.abort(new Error('gone'));
      await expect(
        store.read([customer], [tickets], { signal: controller.signal }),
      ).rejects.toThrow('gone');
    });
  });
}

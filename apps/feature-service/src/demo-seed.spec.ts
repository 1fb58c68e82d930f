import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultSeedFile, loadSeedRows } from './demo-seed.js';
import { defaultFeatureViewsFile, loadFeatureViews } from './feature-views.js';

const catalog = await loadFeatureViews(defaultFeatureViewsFile);

async function seedFile(content: unknown): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'seed-')), 'entities.json');
  await writeFile(file, JSON.stringify(content));
  return file;
}

describe('loadSeedRows', () => {
  it('turns each demo entity into one customer_stats row stamped with the given time, ints as int64', async () => {
    const rows = await loadSeedRows(defaultSeedFile, catalog, 1234);
    expect(rows).toHaveLength(10);
    const first = rows[0]!;
    expect(first).toMatchObject({
      entity: { entityType: 'customer', key: 'c-0001' },
      view: 'customer_stats',
      eventTimeMs: 1234,
    });
    expect(first.values.get('signal_snr_db')).toEqual({ case: 'doubleValue', value: 24.4375 });
    expect(first.values.get('modem_age_months')).toEqual({ case: 'int64Value', value: 88n });
    expect(first.values.get('outage_minutes_7d')).toEqual({ case: 'doubleValue', value: 0 });
  });

  it('names the entry whose value does not fit the dtype', async () => {
    const file = await seedFile([
      { entityType: 'customer', key: 'c-1', features: { tickets_30d: 1.5 } },
    ]);
    await expect(loadSeedRows(file, catalog, 0)).rejects.toThrow(
      `${file}: [0] (customer "c-1"): feature "tickets_30d": expected int64, got 1.5`,
    );
  });

  it('names the entry with a feature no view holds, and an entity type no view holds', async () => {
    const unknownFeature = await seedFile([
      { entityType: 'customer', key: 'c-1', features: { shoe_size: 42 } },
    ]);
    await expect(loadSeedRows(unknownFeature, catalog, 0)).rejects.toThrow(
      '[0] (customer "c-1"): feature "shoe_size" is in no view of entity type "customer"',
    );
    const unknownType = await seedFile([{ entityType: 'site', key: 's-1', features: {} }]);
    await expect(loadSeedRows(unknownType, catalog, 0)).rejects.toThrow(
      '[0] (site "s-1"): no feature view holds entity type "site"',
    );
  });
});

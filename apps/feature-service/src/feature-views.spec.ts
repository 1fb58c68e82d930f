import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ValueType } from '@scoregate/contracts';
import {
  defaultFeatureViewsFile,
  dtypeName,
  loadFeatureViews,
  parseFeatureViews,
} from './feature-views.js';

const manifestFile = new URL('../../../tools/models/fixtures/manifest.json', import.meta.url);

function validFile() {
  return {
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
  };
}

describe('the shipped feature-views.json', () => {
  it('defines customer_stats with 24h max age, 7d ttl and every feature the model fixtures read', async () => {
    const catalog = await loadFeatureViews(defaultFeatureViewsFile);
    const view = catalog.view('customer_stats');
    expect(view?.entityType).toBe('customer');
    expect(view?.version).toBe('1');
    expect(view?.maxAgeMs).toBe(24 * 3_600_000);
    expect(view?.ttlMs).toBe(7 * 86_400_000);

    const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as {
      models: { features: { ref: string }[] }[];
    };
    const refs = new Set(
      manifest.models.flatMap((model) => model.features.map((feature) => feature.ref)),
    );
    expect(refs.size).toBeGreaterThan(0);
    for (const ref of refs) {
      const [viewName, feature] = ref.split(':') as [string, string];
      expect(catalog.view(viewName)?.feature(feature), ref).toBeDefined();
    }
    expect(Object.fromEntries(view!.features.map((f) => [f.name, dtypeName(f.dtype)]))).toEqual({
      signal_snr_db: 'double',
      error_rate_1h: 'double',
      reboots_24h: 'int64',
      tickets_30d: 'int64',
      outage_minutes_7d: 'double',
      modem_age_months: 'int64',
      plan_tier: 'int64',
      calls_7d: 'int64',
    });
  });
});

describe('parseFeatureViews', () => {
  it('maps dtypes to ValueType and keeps definition order', () => {
    const view = parseFeatureViews(validFile(), 'f.json').view('customer_stats')!;
    expect(view.features.map((f) => [f.name, f.dtype])).toEqual([
      ['signal_snr_db', ValueType.DOUBLE],
      ['tickets_30d', ValueType.INT64],
    ]);
  });

  it('names the file, the view and the feature of a bad dtype', () => {
    const file = validFile();
    (file.views[0]!.features[1] as { dtype: string }).dtype = 'float';
    expect(() => parseFeatureViews(file, 'f.json')).toThrow(
      'f.json: views[0] ("customer_stats").features[1] ("tickets_30d").dtype: must be one of double, int64, string, bool',
    );
  });

  it('refuses a ttl shorter than max age', () => {
    const file = validFile();
    file.views[0]!.ttl = '1h';
    expect(() => parseFeatureViews(file, 'f.json')).toThrow(
      'f.json: views[0] ("customer_stats").ttl: must be at least maxAge (24h), got 1h',
    );
  });

  it('refuses a duplicate feature name', () => {
    const file = validFile();
    file.views[0]!.features[1]!.name = 'signal_snr_db';
    expect(() => parseFeatureViews(file, 'f.json')).toThrow(
      'f.json: views[0] ("customer_stats").features[1] ("signal_snr_db").name: duplicate feature name "signal_snr_db"',
    );
  });

  it('refuses a name that is not a Scoregate name, and an unreadable duration', () => {
    const badName = validFile();
    badName.views[0]!.entityType = 'Customer';
    expect(() => parseFeatureViews(badName, 'f.json')).toThrow(
      'f.json: views[0] ("customer_stats").entityType: must match',
    );
    const badDuration = validFile();
    badDuration.views[0]!.maxAge = '1 day';
    expect(() => parseFeatureViews(badDuration, 'f.json')).toThrow(
      'f.json: views[0] ("customer_stats").maxAge: must be a positive duration',
    );
  });

  it('reports an unreadable file by its path', async () => {
    await expect(loadFeatureViews('/nonexistent/views.json')).rejects.toThrow(
      '/nonexistent/views.json: cannot read the feature views file',
    );
  });
});

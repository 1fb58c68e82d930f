import { describe, expect, it } from 'vitest';
import { defaultFeatureViewsFile, loadFeatureViews } from '../feature-views.js';
import { encodeEvent } from './feature-events.fixture.js';
import { decodeFeatureUpdated, FEATURE_UPDATED_TYPE } from './feature-updated-decoding.js';

const catalog = await loadFeatureViews(defaultFeatureViewsFile);
const headers = { type: FEATURE_UPDATED_TYPE };
const values = new Map([
  ['signal_snr_db', { case: 'doubleValue', value: 31.5 } as const],
  ['reboots_24h', { case: 'int64Value', value: 2n } as const],
]);

describe('decodeFeatureUpdated', () => {
  it('turns a valid event into a write of its view, values and event time', () => {
    const decoded = decodeFeatureUpdated(
      encodeEvent('c-1', 1_700_000_000_123, values),
      headers,
      catalog,
    );
    expect(decoded.ok).toBe(true);
    if (!decoded.ok) return;
    expect(decoded.row).toEqual({
      entity: { entityType: 'customer', key: 'c-1' },
      view: 'customer_stats',
      values: new Map(values),
      eventTimeMs: 1_700_000_000_123,
    });
  });

  it('refuses bytes that are not a FeatureUpdated, saying so', () => {
    const decoded = decodeFeatureUpdated(
      new Uint8Array([0xff, 0xff, 0xff, 0xff]),
      headers,
      catalog,
    );
    expect(decoded).toEqual({
      ok: false,
      reason: expect.stringMatching(/^cannot decode scoregate\.events\.v1\.FeatureUpdated: /),
    });
  });

  it('refuses an event of an unknown view, naming the view', () => {
    const decoded = decodeFeatureUpdated(
      encodeEvent('c-1', 1_700_000_000_000, values, 'no_such_view'),
      headers,
      catalog,
    );
    expect(decoded).toEqual({
      ok: false,
      reason: 'invalid event: view: unknown view "no_such_view"',
    });
  });

  it('refuses a value of the wrong type, naming the feature', () => {
    const wrong = new Map([['reboots_24h', { case: 'stringValue', value: 'two' } as const]]);
    const decoded = decodeFeatureUpdated(
      encodeEvent('c-1', 1_700_000_000_000, wrong),
      headers,
      catalog,
    );
    expect(decoded).toEqual({
      ok: false,
      reason: 'invalid event: values["reboots_24h"]: expected int64, got string',
    });
  });

  it.each([Number.NaN, Infinity, -Infinity])(
    'refuses an event with a %s value, naming the feature',
    (bad) => {
      const nonFinite = new Map([
        ['reboots_24h', { case: 'int64Value', value: 1n } as const],
        ['error_rate_1h', { case: 'doubleValue', value: bad } as const],
      ]);
      const decoded = decodeFeatureUpdated(
        encodeEvent('c-1', 1_700_000_000_000, nonFinite),
        headers,
        catalog,
      );
      expect(decoded).toEqual({
        ok: false,
        reason: `invalid event: values["error_rate_1h"]: must be a finite number, got ${String(bad)}`,
      });
    },
  );

  it('refuses a record whose type header names another message', () => {
    const decoded = decodeFeatureUpdated(
      encodeEvent('c-1', 1, values),
      { type: 'scoregate.events.v1.PredictionLogged' },
      catalog,
    );
    expect(decoded).toEqual({ ok: false, reason: expect.stringMatching(/^wrong type header: /) });
  });
});

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

  it.each([
    [
      'a value of the wrong type',
      'reboots_24h',
      { case: 'stringValue', value: 'two' },
      'expected int64, got string',
    ],
    [
      'a NaN',
      'error_rate_1h',
      { case: 'doubleValue', value: Number.NaN },
      'must be a finite number, got NaN',
    ],
    [
      'an infinity',
      'signal_snr_db',
      { case: 'doubleValue', value: Infinity },
      'must be a finite number, got Infinity',
    ],
    [
      'a negative infinity',
      'error_rate_1h',
      { case: 'doubleValue', value: -Infinity },
      'must be a finite number, got -Infinity',
    ],
  ] as const)('refuses %s, naming the feature', (_case, feature, value, why) => {
    const decoded = decodeFeatureUpdated(
      encodeEvent('c-1', 1_700_000_000_000, new Map([[feature, value]])),
      headers,
      catalog,
    );
    expect(decoded).toEqual({ ok: false, reason: `invalid event: values["${feature}"]: ${why}` });
  });

  it('refuses a record whose type header names another message', () => {
    const decoded = decodeFeatureUpdated(
      encodeEvent('c-1', 1, values),
      { type: 'scoregate.events.v1.PredictionLogged' },
      catalog,
    );
    expect(decoded).toEqual({ ok: false, reason: expect.stringMatching(/^wrong type header: /) });
  });
});

import { create } from '@bufbuild/protobuf';
import {
  DegradationReason,
  EntityKeySchema,
  FeatureInputSchema,
  FeatureResultSchema,
  FeatureStatus,
  FeatureValueSchema,
} from '@scoregate/contracts';
import { describe, expect, it } from 'vitest';
import { featuresUsed, predictionEventFromAnswer } from './prediction-event.js';

const double = (value: number) =>
  create(FeatureValueSchema, { kind: { case: 'doubleValue', value } });
const input = (ref: string, required: boolean, defaultValue?: number) =>
  create(FeatureInputSchema, {
    ref,
    required,
    ...(defaultValue === undefined ? {} : { defaultValue: double(defaultValue) }),
  });
const result = (ref: string, status: FeatureStatus, value?: number) =>
  create(FeatureResultSchema, {
    ref,
    status,
    ...(value === undefined ? {} : { value: double(value) }),
  });

describe('featuresUsed', () => {
  it('flags each feature the way the model got it: request, stored, defaulted, stale or missing', () => {
    const contract = [
      input('v:from_request', true),
      input('v:fresh', true),
      input('v:stale_with_default', false, 5),
      input('v:absent_with_default', false, 7),
      input('v:stale_required', true),
      input('v:absent_required', true),
    ];
    const stored = new Map([
      ['v:from_request', result('v:from_request', FeatureStatus.OK, 1)],
      ['v:fresh', result('v:fresh', FeatureStatus.OK, 2)],
      ['v:stale_with_default', result('v:stale_with_default', FeatureStatus.STALE, 3)],
      ['v:stale_required', result('v:stale_required', FeatureStatus.STALE, 4)],
    ]);
    const used = featuresUsed(contract, stored, { from_request: double(9) });
    expect(
      used.map((f) => [
        f.ref,
        (f.value as { kind?: { value?: unknown } } | undefined)?.kind?.value,
        f.missing ?? false,
        f.stale ?? false,
        f.defaulted ?? false,
      ]),
    ).toEqual([
      ['v:from_request', 9, false, false, false],
      ['v:fresh', 2, false, false, false],
      ['v:stale_with_default', 5, false, true, true],
      ['v:absent_with_default', 7, true, false, true],
      ['v:stale_required', 4, false, true, false],
      ['v:absent_required', undefined, true, false, false],
    ]);
  });
});

describe('predictionEventFromAnswer', () => {
  it('carries the degraded default answer with its reasons, timings and trace id', () => {
    const event = predictionEventFromAnswer({
      request: {
        scorer: 'truck-roll-priority',
        entityKeys: [create(EntityKeySchema, { entityType: 'customer', key: 'c-1' })],
        requestFeatures: {},
        budgetMs: undefined,
        requestId: 'r-1',
      },
      response: {
        requestId: 'r-1',
        traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
        score: 0.1,
        servedBy: { alias: 'default' },
        degraded: true,
        reasons: [DegradationReason.FEATURES_UNAVAILABLE, DegradationReason.DEFAULT_ANSWER],
        timings: { total: { nanos: 3_000_000 } },
      },
      batchIndex: 2,
    });
    expect(event).toMatchObject({
      requestId: 'r-1',
      scorer: 'truck-roll-priority',
      entityKeys: [{ entityType: 'customer', key: 'c-1' }],
      servedBy: { alias: 'default' },
      features: [],
      outputs: [],
      score: 0.1,
      degraded: true,
      reasons: [DegradationReason.FEATURES_UNAVAILABLE, DegradationReason.DEFAULT_ANSWER],
      timings: { total: { nanos: 3_000_000 } },
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      batchIndex: 2,
      shadow: false,
    });
  });
});

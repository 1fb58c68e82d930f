import fc from 'fast-check';
import type { FeatureValue } from '@scoregate/contracts';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { EntityKeySchema, FeatureValueSchema } from '@scoregate/contracts';
import { hostileDouble, hostileInt64, hostileString, mapOf, nameFrom } from '../hostile-values.js';

/** The demo feature view's features, as served by the stack (apps/feature-service). */
export const VIEW = 'customer_stats';
export const DOUBLE_FEATURES = ['signal_snr_db', 'error_rate_1h', 'outage_minutes_7d'];
export const INT64_FEATURES = [
  'reboots_24h',
  'tickets_30d',
  'modem_age_months',
  'plan_tier',
  'calls_7d',
];
export const FEATURES = [...DOUBLE_FEATURES, ...INT64_FEATURES];
export const FEATURE_REFS = FEATURES.map((feature) => `${VIEW}:${feature}`);

/** Demo entities (seeded) and others the store has never seen. */
export const CUSTOMER_KEYS = ['c-0001', 'c-0002', 'c-0003', 'c-0042', 'c-9999', 'x-1'];
export const ENTITY_TYPES = ['customer', 'site', 'device'];

export const entityType = fc.oneof(
  { weight: 3, arbitrary: fc.constant('customer') },
  { weight: 1, arbitrary: nameFrom(ENTITY_TYPES) },
);
export const entityKeyText = nameFrom(CUSTOMER_KEYS);

/** An EntityKey, either field possibly left out. */
export const entityKey: fc.Arbitrary<MessageInitShape<typeof EntityKeySchema>> = fc.record(
  { entityType, key: entityKeyText },
  { requiredKeys: [] },
);

/** A FeatureValue of any kind (or none), with hostile numbers and strings. */
export const featureValue: fc.Arbitrary<MessageInitShape<typeof FeatureValueSchema>> = fc.oneof(
  { weight: 4, arbitrary: hostileDouble.map((value) => kind('doubleValue', value)) },
  { weight: 2, arbitrary: hostileInt64.map((value) => kind('int64Value', value)) },
  { weight: 1, arbitrary: hostileString.map((value) => kind('stringValue', value)) },
  { weight: 1, arbitrary: fc.boolean().map((value) => kind('boolValue', value)) },
  { weight: 1, arbitrary: fc.constant({}) },
);

function kind<C extends NonNullable<FeatureValue['kind']['case']>>(
  which: C,
  value: Extract<FeatureValue['kind'], { case: C }>['value'],
): MessageInitShape<typeof FeatureValueSchema> {
  return { kind: { case: which, value } as FeatureValue['kind'] };
}

/** Request-time features keyed by feature ref or bare name (or anything else). */
export const requestFeatures = fc.option(
  mapOf(
    nameFrom([...FEATURE_REFS, ...FEATURES, 'x', 'Bad Ref!!', 'other_view:signal_snr_db']),
    featureValue,
    4,
    { count: 257, key: fc.constantFrom(...FEATURE_REFS, ...FEATURES) },
  ),
  { nil: undefined, freq: 2 },
);

/** A seeded demo entity: the cheap item of over-long repeated fields. */
export const DEMO_ENTITY = { entityType: 'customer', key: 'c-0001' };

import fc from 'fast-check';
import type { MessageInitShape } from '@bufbuild/protobuf';
import {
  GetFeaturesRequestSchema,
  ListFeatureViewsRequestSchema,
  WriteFeaturesRequestSchema,
  type FeatureValueSchema,
} from '@scoregate/contracts';
import { singleMessageInputs } from '../fuzz-input.js';
import {
  hostileDouble,
  hostileInt64,
  hostileTimestamp,
  maybe,
  nameFrom,
  repeated,
} from '../hostile-values.js';
import {
  DEMO_ENTITY,
  DOUBLE_FEATURES,
  FEATURE_REFS,
  FEATURES,
  VIEW,
  entityKey,
  entityType,
  featureValue,
} from './common-values.js';

/** Keys the write fuzzing writes to (besides the seeded demo entities). */
export const WRITTEN_KEYS = ['c-0001', 'c-0002', 'w-0001', 'w-0002', 'w-0003', 'w-0004'];

/** A value of the feature's declared type most of the time, any value otherwise. */
function valueFor(feature: string): fc.Arbitrary<MessageInitShape<typeof FeatureValueSchema>> {
  const typed = DOUBLE_FEATURES.includes(feature)
    ? hostileDouble.map((value) => ({ kind: { case: 'doubleValue' as const, value } }))
    : hostileInt64.map((value) => ({ kind: { case: 'int64Value' as const, value } }));
  return fc.oneof({ weight: 4, arbitrary: typed }, { weight: 1, arbitrary: featureValue });
}

const namedValue = nameFrom([...FEATURES, 'no_such_feature']).chain((name) =>
  fc.tuple(fc.constant(name), valueFor(name)),
);

/** A valid row: the cheap item of an over-long request. */
const DEMO_ROW = {
  entity: DEMO_ENTITY,
  view: VIEW,
  values: { calls_7d: { kind: { case: 'int64Value' as const, value: 1n } } },
  eventTime: { seconds: 1n, nanos: 0 },
};

const row = fc.record(
  {
    entity: maybe(fc.record({ entityType, key: nameFrom(WRITTEN_KEYS) }, { requiredKeys: [] })),
    view: nameFrom([VIEW, VIEW, 'other_view']),
    values: repeated(namedValue, 2).map((entries) => Object.fromEntries(entries)),
    eventTime: maybe(hostileTimestamp),
  },
  { requiredKeys: [] },
);

/** Valid-shaped and hostile requests of FeatureService, by method name. */
export const featureInputs = {
  GetFeatures: singleMessageInputs(
    GetFeaturesRequestSchema,
    fc.record(
      {
        entities: repeated(entityKey, 3, { count: 1001, item: fc.constant(DEMO_ENTITY) }),
        featureRefs: repeated(
          nameFrom([...FEATURE_REFS, `${VIEW}:nope`, 'nope:signal_snr_db', 'signal_snr_db']),
          4,
          { count: 513, item: fc.constantFrom(...FEATURE_REFS) },
        ),
      },
      { requiredKeys: [] },
    ),
  ),
  WriteFeatures: singleMessageInputs(
    WriteFeaturesRequestSchema,
    fc.record(
      { rows: repeated(row, 2, { count: 1001, item: fc.constant(DEMO_ROW) }) },
      { requiredKeys: [] },
    ),
  ),
  ListFeatureViews: singleMessageInputs(ListFeatureViewsRequestSchema, fc.constant({})),
};

import { timestampMs, type Timestamp } from '@bufbuild/protobuf/wkt';
import {
  ValueType,
  type EntityKey,
  type FeatureRow,
  type FeatureValue,
  type GetFeaturesRequest,
  type WriteFeaturesRequest,
} from '@scoregate/contracts';
import { Code, RpcError } from '@scoregate/rpc';
import { aheadOfClockReason, type ClockSkewGuard } from './clock-skew.js';
import { isScoregateName, parseFeatureRef, type FeatureRef } from './feature-ref.js';
import type { EntityRef, FeatureRowWrite, FeatureScalar } from './feature-store.js';
import {
  dtypeName,
  type FeatureCatalog,
  type FeatureDefinition,
  type FeatureViewDefinition,
} from './feature-views.js';

/** Limits stated in proto/scoregate/feature/v1/feature.proto and common.proto. */
export const limits = {
  entities: 1000,
  featureRefs: 512,
  rows: 1000,
  keyBytes: 256,
  stringValueBytes: 4096,
  sourceBytes: 128,
} as const;

// google.protobuf.Timestamp's valid range: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z.
const MIN_TIMESTAMP_SECONDS = -62_135_596_800n;
const MAX_TIMESTAMP_SECONDS = 253_402_300_799n;

/** Validates a GetFeatures request; throws INVALID_ARGUMENT or NOT_FOUND naming the field. */
export function validateGetFeaturesRequest(
  request: GetFeaturesRequest,
  catalog: FeatureCatalog,
): { entities: EntityRef[]; refs: FeatureRef[] } {
  checkCount('entities', request.entities.length, limits.entities, ['entity', 'entities']);
  const entities = request.entities.map((entity, e) => checkEntity(entity, `entities[${e}]`));

  checkCount('feature_refs', request.featureRefs.length, limits.featureRefs, [
    'feature ref',
    'feature refs',
  ]);
  const seen = new Map<string, number>();
  const refs = request.featureRefs.map((text, r) => {
    const field = `feature_refs[${r}]`;
    const ref = parseFeatureRef(text);
    if (ref === undefined)
      throw RpcError.invalidArgument(
        field,
        `must be "view:feature" (two Scoregate names), got ${quote(text)}`,
      );
    const first = seen.get(text);
    if (first !== undefined)
      throw RpcError.invalidArgument(field, `duplicate of feature_refs[${first}] (${quote(text)})`);
    seen.set(text, r);
    const view = catalog.view(ref.view);
    if (view === undefined) throw notFound(field, `unknown view ${quote(ref.view)}`);
    if (view.feature(ref.feature) === undefined)
      throw notFound(field, `unknown feature ${quote(ref.feature)} in view ${quote(view.name)}`);
    return ref;
  });
  return { entities, refs };
}

/**
 * Validates every row of a WriteFeatures request before anything is written, so the request is
 * applied whole or refused whole. Throws INVALID_ARGUMENT or NOT_FOUND naming the field.
 */
export function validateWriteFeaturesRequest(
  request: WriteFeaturesRequest,
  catalog: FeatureCatalog,
): FeatureRowWrite[] {
  checkCount('rows', request.rows.length, limits.rows, ['row', 'rows']);
  const sourceBytes = Buffer.byteLength(request.source, 'utf8');
  if (sourceBytes > limits.sourceBytes) {
    throw RpcError.invalidArgument(
      'source',
      `must be at most ${limits.sourceBytes} bytes of UTF-8, got ${sourceBytes}`,
    );
  }
  return request.rows.map((row, i) => checkRow(row, `rows[${i}]`, catalog));
}

/**
 * Refuses the request whole (INVALID_ARGUMENT naming the row's event time and the skew) when a
 * row is stamped further ahead of this clock than the guard tolerates; the guard counts it.
 */
export function checkClockSkew(
  rows: readonly FeatureRowWrite[],
  source: string,
  guard: ClockSkewGuard,
): void {
  const ahead = guard.check(
    rows.map((row) => row.eventTimeMs),
    source,
    { path: 'rpc' },
  );
  if (ahead !== undefined) {
    throw RpcError.invalidArgument(
      `rows[${ahead.index}].event_time`,
      aheadOfClockReason(ahead.aheadMs, guard.toleranceMs, source),
    );
  }
}

function checkRow(row: FeatureRow, field: string, catalog: FeatureCatalog): FeatureRowWrite {
  if (row.entity === undefined) throw RpcError.invalidArgument(`${field}.entity`, 'is required');
  const entity = checkEntity(row.entity, `${field}.entity`);
  if (row.view === '') throw RpcError.invalidArgument(`${field}.view`, 'is required');
  if (!isScoregateName(row.view))
    throw RpcError.invalidArgument(
      `${field}.view`,
      `must be a Scoregate name, got ${quote(row.view)}`,
    );
  const view = catalog.view(row.view);
  if (view === undefined) throw notFound(`${field}.view`, `unknown view ${quote(row.view)}`);
  if (entity.entityType !== view.entityType) {
    throw RpcError.invalidArgument(
      `${field}.entity.entity_type`,
      `must be ${quote(view.entityType)} (the entity type of view ${quote(view.name)}), got ${quote(entity.entityType)}`,
    );
  }
  const values = checkValues(row.values, view, `${field}.values`);
  return { entity, view: view.name, values, eventTimeMs: checkEventTime(row.eventTime, field) };
}

/** The row's values by feature name; each must be a feature of `view`, of its dtype. */
function checkValues(
  rowValues: FeatureRow['values'],
  view: FeatureViewDefinition,
  field: string,
): Map<string, FeatureScalar | undefined> {
  const names = Object.keys(rowValues);
  if (names.length === 0) throw RpcError.invalidArgument(field, 'at least one value is required');
  const values = new Map<string, FeatureScalar | undefined>();
  for (const name of names) {
    const valueField = `${field}[${quote(name)}]`;
    const feature = view.feature(name);
    if (feature === undefined)
      throw notFound(valueField, `unknown feature ${quote(name)} in view ${quote(view.name)}`);
    values.set(name, checkValue(rowValues[name]!, feature, valueField));
  }
  return values;
}

/** The event time in epoch ms, within google.protobuf.Timestamp's valid range. */
function checkEventTime(eventTime: Timestamp | undefined, field: string): number {
  if (eventTime === undefined) throw RpcError.invalidArgument(`${field}.event_time`, 'is required');
  const { seconds, nanos } = eventTime;
  if (
    seconds < MIN_TIMESTAMP_SECONDS ||
    seconds > MAX_TIMESTAMP_SECONDS ||
    nanos < 0 ||
    nanos > 999_999_999
  ) {
    throw RpcError.invalidArgument(
      `${field}.event_time`,
      'must be a valid timestamp between years 1 and 9999',
    );
  }
  return timestampMs(eventTime);
}

/** At least one item and at most `max`, or INVALID_ARGUMENT on `field`. */
function checkCount(
  field: string,
  count: number,
  max: number,
  [one, many]: readonly [string, string],
): void {
  if (count === 0) throw RpcError.invalidArgument(field, `at least one ${one} is required`);
  if (count > max)
    throw RpcError.invalidArgument(field, `at most ${max} ${many} are allowed, got ${count}`);
}

function checkEntity(entity: EntityKey, field: string): EntityRef {
  if (entity.entityType === '')
    throw RpcError.invalidArgument(`${field}.entity_type`, 'is required');
  if (!isScoregateName(entity.entityType)) {
    throw RpcError.invalidArgument(
      `${field}.entity_type`,
      `must be a Scoregate name (^[a-z0-9][a-z0-9_-]{0,62}$), got ${quote(entity.entityType)}`,
    );
  }
  if (entity.key === '') throw RpcError.invalidArgument(`${field}.key`, 'is required');
  const keyBytes = Buffer.byteLength(entity.key, 'utf8');
  if (keyBytes > limits.keyBytes) {
    throw RpcError.invalidArgument(
      `${field}.key`,
      `must be at most ${limits.keyBytes} bytes of UTF-8, got ${keyBytes}`,
    );
  }
  return { entityType: entity.entityType, key: entity.key };
}

/** The value to store, or undefined for an unset value (which clears the feature). */
function checkValue(
  value: FeatureValue,
  feature: FeatureDefinition,
  field: string,
): FeatureScalar | undefined {
  const { kind } = value;
  if (kind.case === undefined) return undefined;
  const expected = dtypeName(feature.dtype);
  if (kind.case !== caseOf(feature.dtype))
    throw RpcError.invalidArgument(field, `expected ${expected}, got ${kindName(kind.case)}`);
  if (kind.case === 'doubleValue' && !Number.isFinite(kind.value)) {
    throw RpcError.invalidArgument(field, `must be a finite number, got ${kind.value}`);
  }
  if (kind.case === 'stringValue') {
    const bytes = Buffer.byteLength(kind.value, 'utf8');
    if (bytes > limits.stringValueBytes) {
      throw RpcError.invalidArgument(
        field,
        `must be at most ${limits.stringValueBytes} bytes of UTF-8, got ${bytes}`,
      );
    }
  }
  return kind;
}

function caseOf(dtype: ValueType): FeatureScalar['case'] | undefined {
  switch (dtype) {
    case ValueType.DOUBLE:
      return 'doubleValue';
    case ValueType.INT64:
      return 'int64Value';
    case ValueType.STRING:
      return 'stringValue';
    case ValueType.BOOL:
      return 'boolValue';
    default:
      return undefined;
  }
}

function kindName(kind: FeatureScalar['case']): string {
  return { doubleValue: 'double', int64Value: 'int64', stringValue: 'string', boolValue: 'bool' }[
    kind
  ];
}

/** NOT_FOUND, as feature.proto specifies for unknown views and features, naming the field. */
function notFound(field: string, description: string): RpcError {
  return new RpcError(Code.NOT_FOUND, `${field}: ${description}`, {
    violations: [{ field, description }],
  });
}

/** Quotes client text for a message, cut short so an error never echoes a huge input. */
function quote(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}

import { ValueType } from '@scoregate/contracts';
import type { EntityRef, FeatureScalar } from './feature-store.js';
import type { FeatureRef } from './feature-ref.js';

/*
 * How features lie in Redis, as Feast lays them out, for the same reasons:
 *
 * - one hash per entity, `<prefix><entity type>:<entity key>` (e.g. `sg:f:customer:c-0001`), so
 *   every feature of an entity, whatever its view, comes back in ONE HMGET. The entity type is a
 *   Scoregate name (no `:`), so the key is unambiguous whatever bytes the entity key holds;
 * - one field per feature, `<view>:<feature>`, and one event-time field per view,
 *   `_ts:<view>` (epoch ms, decimal, so the write script can compare it). View names never start
 *   with `_`, so the two never collide;
 * - the TTL is on the hash (Redis 7.0 has no per-field expiry): max over the views written of
 *   event time + ttl. Trade-off: a view past its ttl stays in memory as long as another view of
 *   the same entity keeps the hash alive, and a view without ttl keeps the whole hash forever.
 *   Reads never serve such values (MISSING comes from the event time, see `freshnessOf`), and the
 *   write script clears them before the view is written again.
 *
 * Values: one tag byte, then the payload — `d` + IEEE-754 float64 big-endian, `i` + int64
 * big-endian, `s` + UTF-8, `t` / `f` for booleans. Fixed-width binary keeps doubles and int64 exact
 * (no decimal round trip) and decodes with one Buffer read, 3,200 times per 100 × 32 request,
 * without the allocations of a protobuf decode; the tag makes each value self-describing, so a
 * value written under an older dtype of the feature is read as MISSING instead of being handed to
 * a model in the wrong type.
 */

export const DEFAULT_KEY_PREFIX = 'sg:f:';

/** The hash that holds every view of an entity. */
export function entityHashKey(prefix: string, entity: EntityRef): string {
  return `${prefix}${entity.entityType}:${entity.key}`;
}

/** The hash field of one feature. */
export function featureField(ref: FeatureRef): string {
  return `${ref.view}:${ref.feature}`;
}

/** The hash field holding a view's event time. */
export function eventTimeField(view: string): string {
  return `_ts:${view}`;
}

const TAG_DOUBLE = 0x64; // d
const TAG_INT64 = 0x69; // i
const TAG_STRING = 0x73; // s
const TAG_TRUE = 0x74; // t
const TAG_FALSE = 0x66; // f

export function encodeFeatureValue(value: FeatureScalar): Buffer {
  switch (value.case) {
    case 'doubleValue': {
      const buffer = Buffer.allocUnsafe(9);
      buffer[0] = TAG_DOUBLE;
      buffer.writeDoubleBE(value.value, 1);
      return buffer;
    }
    case 'int64Value': {
      const buffer = Buffer.allocUnsafe(9);
      buffer[0] = TAG_INT64;
      buffer.writeBigInt64BE(value.value, 1);
      return buffer;
    }
    case 'stringValue': {
      const text = Buffer.from(value.value, 'utf8');
      const buffer = Buffer.allocUnsafe(text.length + 1);
      buffer[0] = TAG_STRING;
      text.copy(buffer, 1);
      return buffer;
    }
    case 'boolValue':
      return Buffer.of(value.value ? TAG_TRUE : TAG_FALSE);
  }
}

/** The value, or undefined when the bytes are not a value of `dtype`. */
export function decodeFeatureValue(bytes: Buffer, dtype: ValueType): FeatureScalar | undefined {
  const tag = bytes[0];
  switch (dtype) {
    case ValueType.DOUBLE:
      return tag === TAG_DOUBLE && bytes.length === 9
        ? { case: 'doubleValue', value: bytes.readDoubleBE(1) }
        : undefined;
    case ValueType.INT64:
      return tag === TAG_INT64 && bytes.length === 9
        ? { case: 'int64Value', value: bytes.readBigInt64BE(1) }
        : undefined;
    case ValueType.STRING:
      return tag === TAG_STRING
        ? { case: 'stringValue', value: bytes.toString('utf8', 1) }
        : undefined;
    case ValueType.BOOL:
      return bytes.length === 1 && (tag === TAG_TRUE || tag === TAG_FALSE)
        ? { case: 'boolValue', value: tag === TAG_TRUE }
        : undefined;
    default:
      return undefined;
  }
}

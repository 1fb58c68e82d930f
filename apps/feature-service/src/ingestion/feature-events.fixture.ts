/**
 * Generated FeatureUpdated streams for the ingestion specs, with the expected end state computed
 * independently of the code under test (a plain max by event time over the generated events).
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { FeatureUpdatedSchema, type FeatureValue } from '@scoregate/contracts';
import type { OutgoingRecord } from '@scoregate/messaging';
import { seededRandom } from '@scoregate/test-servers';
import type { EntityRef, FeatureScalar, FeatureStore } from '../feature-store.js';
import { FEATURE_UPDATED_TYPE } from './feature-updated-decoding.js';

export const VIEW = 'customer_stats';
const DOUBLES = ['signal_snr_db', 'error_rate_1h', 'outage_minutes_7d'] as const;
const INTS = ['reboots_24h', 'tickets_30d', 'modem_age_months', 'plan_tier', 'calls_7d'] as const;
export const FEATURES = [...DOUBLES, ...INTS];

export interface GeneratedEvent {
  readonly key: string;
  readonly eventTimeMs: number;
  readonly values: ReadonlyMap<string, FeatureScalar>;
  readonly bytes: Uint8Array;
}

export interface GeneratedStream {
  /** Every record to produce: duplicates included, shuffled. */
  readonly records: OutgoingRecord[];
  /** The newest event of each entity key, by event time. */
  readonly newest: ReadonlyMap<string, GeneratedEvent>;
  readonly entities: EntityRef[];
}

/** Encodes one FeatureUpdated of the customer_stats view. */
export function encodeEvent(
  key: string,
  eventTimeMs: number,
  values: ReadonlyMap<string, FeatureScalar>,
  view = VIEW,
): Uint8Array {
  const protoValues: Record<string, FeatureValue> = {};
  for (const [name, kind] of values)
    protoValues[name] = { $typeName: 'scoregate.common.v1.FeatureValue', kind };
  return toBinary(
    FeatureUpdatedSchema,
    create(FeatureUpdatedSchema, {
      entity: { entityType: 'customer', key },
      view,
      values: protoValues,
      eventTime: timestampFromMs(eventTimeMs),
      source: 'ingestion-spec',
    }),
  );
}

export function recordOf(key: string, bytes: Uint8Array, partition?: number): OutgoingRecord {
  return {
    key: `customer/${key}`,
    value: bytes,
    headers: { type: FEATURE_UPDATED_TYPE, 'content-type': 'application/x-protobuf' },
    ...(partition === undefined ? {} : { partition }),
  };
}

/**
 * `entities` × `eventsPerEntity` distinct events (distinct event times per entity, all within the
 * last two hours so they read as OK), plus `duplicateShare` of them again, in random order and on
 * random partitions, so one entity's events are reordered within and across partitions.
 */
export function generateStream(options: {
  readonly seed: number;
  readonly entities: number;
  readonly eventsPerEntity: number;
  readonly duplicateShare: number;
  readonly partitions: number;
  readonly keyPrefix: string;
  readonly nowMs: number;
}): GeneratedStream {
  const random = seededRandom(options.seed);
  const base = options.nowMs - 2 * 3_600_000;
  const events: GeneratedEvent[] = [];
  const newest = new Map<string, GeneratedEvent>();
  for (let e = 0; e < options.entities; e++) {
    const key = `${options.keyPrefix}${String(e).padStart(5, '0')}`;
    for (let i = 0; i < options.eventsPerEntity; i++) {
      // Distinct per entity: slot i of one second, plus a jitter under a second.
      const eventTimeMs = base + i * 1000 + Math.floor(random() * 1000);
      const values = new Map<string, FeatureScalar>();
      for (const name of DOUBLES)
        values.set(name, { case: 'doubleValue', value: Math.round(random() * 1e6) / 1e3 });
      for (const name of INTS)
        values.set(name, { case: 'int64Value', value: BigInt(Math.floor(random() * 1000)) });
      const event = { key, eventTimeMs, values, bytes: encodeEvent(key, eventTimeMs, values) };
      events.push(event);
      const best = newest.get(key);
      if (best === undefined || best.eventTimeMs < eventTimeMs) newest.set(key, event);
    }
  }
  const stream = [...events];
  for (const event of events) if (random() < options.duplicateShare) stream.push(event);
  for (let i = stream.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [stream[i], stream[j]] = [stream[j]!, stream[i]!];
  }
  return {
    records: stream.map((event) =>
      recordOf(event.key, event.bytes, Math.floor(random() * options.partitions)),
    ),
    newest,
    entities: [...newest.keys()].map((key) => ({ entityType: 'customer', key })),
  };
}

/** Entities whose stored values differ from their newest event; with the first difference. */
export async function differences(
  store: FeatureStore,
  stream: GeneratedStream,
): Promise<{ count: number; first?: string }> {
  const refs = FEATURES.map((feature) => ({ view: VIEW, feature }));
  let count = 0;
  let first: string | undefined;
  for (let start = 0; start < stream.entities.length; start += 500) {
    const entities = stream.entities.slice(start, start + 500);
    const readings = await store.read(entities, refs);
    entities.forEach((entity, e) => {
      const expected = stream.newest.get(entity.key)!;
      const mismatch = refs.find((ref, r) => {
        const reading = readings[e]![r]!;
        const want = expected.values.get(ref.feature)!;
        return (
          reading.status === 'missing' ||
          reading.eventTimeMs !== expected.eventTimeMs ||
          reading.value.case !== want.case ||
          reading.value.value !== want.value
        );
      });
      if (mismatch !== undefined) {
        count++;
        first ??= `${entity.key} ${mismatch.feature}: got ${JSON.stringify(
          readings[e]![refs.indexOf(mismatch)],
          (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v),
        )}, want ${String(expected.values.get(mismatch.feature)!.value)} @${expected.eventTimeMs}`;
      }
    });
  }
  return first === undefined ? { count } : { count, first };
}

import {
  FeatureStoreUnavailableError,
  freshnessOf,
  type EntityRef,
  type FeatureReading,
  type StoreCallOptions,
} from './feature-store.js';
import type { FeatureRef } from './feature-ref.js';
import type { FeatureCatalog, FeatureViewDefinition } from './feature-views.js';
import type { RedisConnection, RedisStoreContext } from './redis-store-connection.js';
import {
  decodeFeatureValue,
  entityHashKey,
  eventTimeField,
  featureField,
} from './redis-store-layout.js';

/** What one entity type reads: the hash fields, and where each ref's value and time are. */
interface ReadPlan {
  readonly fields: string[];
  /** Per ref: index of its value field, or -1 when the ref's view is of another entity type. */
  readonly valueAt: number[];
  /** Per ref: index of its view's `_ts` field. */
  readonly timeAt: number[];
}

/** The HMGETs of one read, one per distinct entity hash, and which reply answers each entity. */
interface ReadBatch {
  /** By entity type. */
  readonly plans: Map<string, ReadPlan>;
  readonly hmgets: { readonly key: string; readonly fields: string[] }[];
  /** Per entity: index of its HMGET, or -1 when no ref is of the entity's type. */
  readonly entitySlot: number[];
}

/**
 * Reads every ref for every entity in one pipeline of HMGETs (one per distinct entity), and
 * answers OK, STALE or MISSING per value from its view's event time and the store's clock.
 */
export async function readFeatures(
  context: RedisStoreContext,
  entities: readonly EntityRef[],
  refs: readonly FeatureRef[],
  call: StoreCallOptions,
): Promise<FeatureReading[][]> {
  call.signal?.throwIfAborted();
  context.connection.ensureConnected();
  const nowMs = context.clock();
  const views = refs.map((ref) => context.catalog.view(ref.view));
  const batch = planBatch(context, entities, refs);
  const replies = await fetchFields(context.connection, batch, call);
  return entities.map((entity, e) => {
    const slot = batch.entitySlot[e]!;
    if (slot < 0) return refs.map((): FeatureReading => ({ status: 'missing' }));
    const plan = batch.plans.get(entity.entityType)!;
    return readEntity(plan, replies[slot]!, refs, views, nowMs);
  });
}

/** Plans the HMGETs; duplicate entities are read once. */
function planBatch(
  context: RedisStoreContext,
  entities: readonly EntityRef[],
  refs: readonly FeatureRef[],
): ReadBatch {
  const plans = new Map<string, ReadPlan>();
  const hmgets: ReadBatch['hmgets'] = [];
  const slotOf = new Map<string, number>();
  const entitySlot: number[] = [];
  for (const entity of entities) {
    let plan = plans.get(entity.entityType);
    if (plan === undefined) {
      plan = planFor(context.catalog, entity.entityType, refs);
      plans.set(entity.entityType, plan);
    }
    if (plan.fields.length === 0) {
      entitySlot.push(-1);
      continue;
    }
    const key = entityHashKey(context.prefix, entity);
    let slot = slotOf.get(key);
    if (slot === undefined) {
      slot = hmgets.push({ key, fields: plan.fields }) - 1;
      slotOf.set(key, slot);
    }
    entitySlot.push(slot);
  }
  return { plans, hmgets, entitySlot };
}

function planFor(catalog: FeatureCatalog, entityType: string, refs: readonly FeatureRef[]) {
  const fields: string[] = [];
  const timeFieldOf = new Map<string, number>();
  const valueAt: number[] = [];
  const timeAt: number[] = [];
  for (const ref of refs) {
    const view = catalog.view(ref.view);
    if (view === undefined || view.entityType !== entityType) {
      valueAt.push(-1);
      timeAt.push(-1);
      continue;
    }
    valueAt.push(fields.push(featureField(ref)) - 1);
    let time = timeFieldOf.get(ref.view);
    if (time === undefined) {
      time = fields.push(eventTimeField(ref.view)) - 1;
      timeFieldOf.set(ref.view, time);
    }
    timeAt.push(time);
  }
  return { fields, valueAt, timeAt } satisfies ReadPlan;
}

/** Runs the batch's HMGETs in one pipeline, bounded by the call's deadline. */
async function fetchFields(
  connection: RedisConnection,
  batch: ReadBatch,
  call: StoreCallOptions,
): Promise<(Buffer | null)[][]> {
  if (batch.hmgets.length === 0) return [];
  const pipeline = connection.redis.pipeline();
  for (const { key, fields } of batch.hmgets) pipeline.hmgetBuffer(key, ...fields);
  const replies = await connection.bounded(pipeline.exec(), call, 'read');
  if (replies === null)
    throw new FeatureStoreUnavailableError(`Redis at ${connection.where}: no reply`);
  for (const [error] of replies) {
    if (error) throw connection.failure(error, 'read');
  }
  return replies.map(([, values]) => values as (Buffer | null)[]);
}

/** The readings of one entity from its HMGET reply. */
function readEntity(
  plan: ReadPlan,
  values: (Buffer | null)[],
  refs: readonly FeatureRef[],
  views: (FeatureViewDefinition | undefined)[],
  nowMs: number,
): FeatureReading[] {
  // Each view's event time is parsed once per entity, not once per feature.
  const times = new Map<number, number>();
  return refs.map((ref, r): FeatureReading => {
    const at = plan.valueAt[r]!;
    if (at < 0) return { status: 'missing' };
    const bytes = values[at];
    const timeAt = plan.timeAt[r]!;
    const time = values[timeAt];
    if (bytes == null || time == null) return { status: 'missing' };
    // A ref with a value field has a view of the entity's type (see `planFor`).
    const view = views[r]!;
    let eventTimeMs = times.get(timeAt);
    if (eventTimeMs === undefined) {
      eventTimeMs = Number(time.toString('latin1'));
      times.set(timeAt, eventTimeMs);
    }
    const freshness = freshnessOf(view, eventTimeMs, nowMs);
    if (freshness === 'missing') return { status: 'missing' };
    const value = decodeFeatureValue(bytes, view.feature(ref.feature)!.dtype);
    if (value === undefined) return { status: 'missing' };
    return { status: freshness, value, eventTimeMs };
  });
}

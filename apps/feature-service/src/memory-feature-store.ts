import {
  freshnessOf,
  type EntityRef,
  type FeatureReading,
  type FeatureRowWrite,
  type FeatureScalar,
  type FeatureStore,
  type WriteOutcome,
} from './feature-store.js';
import type { FeatureRef } from './feature-ref.js';
import type { FeatureCatalog } from './feature-views.js';

export interface MemoryFeatureStoreOptions {
  readonly catalog: FeatureCatalog;
  /** Current time in epoch ms; injectable so freshness can be tested. */
  readonly clock?: () => number;
}

interface StoredRow {
  eventTimeMs: number;
  values: Map<string, FeatureScalar>;
}

/**
 * The embedded store: rows kept in process memory, keyed by entity type, key and view. Lost on
 * restart; meant for demos, tests and `npm start` without Redis.
 */
export function createMemoryFeatureStore(options: MemoryFeatureStoreOptions): FeatureStore {
  const clock = options.clock ?? Date.now;
  const table = new RowTable(options.catalog);
  return {
    async read(entities, refs, callOptions = {}) {
      callOptions.signal?.throwIfAborted();
      return readRows(table, entities, refs, clock());
    },
    async write(writes) {
      return writeRows(table, writes, clock());
    },
  };
}

/** One row per entity and view; a row past its view's ttl is dropped when next looked up. */
class RowTable {
  private readonly rows = new Map<string, StoredRow>();

  constructor(readonly catalog: FeatureCatalog) {}

  /** The stored row, or undefined once it is past the view's ttl (it is then dropped). */
  live(entity: EntityRef, viewName: string, nowMs: number): StoredRow | undefined {
    const key = rowKey(entity, viewName);
    const row = this.rows.get(key);
    const view = this.catalog.view(viewName);
    if (row === undefined || view === undefined) return undefined;
    if (freshnessOf(view, row.eventTimeMs, nowMs) === 'missing') {
      this.rows.delete(key);
      return undefined;
    }
    return row;
  }

  set(entity: EntityRef, viewName: string, row: StoredRow): void {
    this.rows.set(rowKey(entity, viewName), row);
  }
}

/** Entity keys are arbitrary UTF-8 (any byte); JSON keeps the three parts apart. */
function rowKey(entity: EntityRef, view: string): string {
  return JSON.stringify([entity.entityType, entity.key, view]);
}

function readRows(
  table: RowTable,
  entities: readonly EntityRef[],
  refs: readonly FeatureRef[],
  nowMs: number,
): FeatureReading[][] {
  return entities.map((entity) =>
    refs.map((ref): FeatureReading => {
      const view = table.catalog.view(ref.view);
      if (view === undefined || view.entityType !== entity.entityType) return { status: 'missing' };
      const row = table.live(entity, ref.view, nowMs);
      const value = row?.values.get(ref.feature);
      if (row === undefined || value === undefined) return { status: 'missing' };
      const status = freshnessOf(view, row.eventTimeMs, nowMs) === 'stale' ? 'stale' : 'ok';
      return { status, value, eventTimeMs: row.eventTimeMs };
    }),
  );
}

/** Synchronous: a request is applied whole, never interleaved with another. */
function writeRows(
  table: RowTable,
  writes: readonly FeatureRowWrite[],
  nowMs: number,
): WriteOutcome {
  let applied = 0;
  let skippedOlder = 0;
  for (const write of writes) {
    const stored = table.live(write.entity, write.view, nowMs);
    if (stored !== undefined && write.eventTimeMs < stored.eventTimeMs) {
      skippedOlder++;
      continue;
    }
    const values = new Map(stored?.values);
    for (const [feature, value] of write.values) {
      if (value === undefined) values.delete(feature);
      else values.set(feature, value);
    }
    table.set(write.entity, write.view, { eventTimeMs: write.eventTimeMs, values });
    applied++;
  }
  return { applied, skippedOlder };
}

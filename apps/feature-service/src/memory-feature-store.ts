import {
  freshnessOf,
  type EntityRef,
  type FeatureReading,
  type FeatureScalar,
  type FeatureStore,
} from './feature-store.js';
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
  const { catalog } = options;
  const clock = options.clock ?? Date.now;
  const rows = new Map<string, StoredRow>();
  // Entity keys are arbitrary UTF-8 (any byte); JSON keeps the three parts apart.
  const rowKey = (entity: EntityRef, view: string) =>
    JSON.stringify([entity.entityType, entity.key, view]);

  /** The stored row, or undefined once it is past the view's ttl (it is then dropped). */
  function liveRow(key: string, viewName: string, nowMs: number): StoredRow | undefined {
    const row = rows.get(key);
    const view = catalog.view(viewName);
    if (row === undefined || view === undefined) return undefined;
    if (freshnessOf(view, row.eventTimeMs, nowMs) === 'missing') {
      rows.delete(key);
      return undefined;
    }
    return row;
  }

  return {
    async read(entities, refs, callOptions = {}) {
      callOptions.signal?.throwIfAborted();
      const nowMs = clock();
      return entities.map((entity) =>
        refs.map((ref): FeatureReading => {
          const view = catalog.view(ref.view);
          if (view === undefined || view.entityType !== entity.entityType)
            return { status: 'missing' };
          const row = liveRow(rowKey(entity, ref.view), ref.view, nowMs);
          const value = row?.values.get(ref.feature);
          if (row === undefined || value === undefined) return { status: 'missing' };
          const status = freshnessOf(view, row.eventTimeMs, nowMs) === 'stale' ? 'stale' : 'ok';
          return { status, value, eventTimeMs: row.eventTimeMs };
        }),
      );
    },

    async write(writes) {
      const nowMs = clock();
      let applied = 0;
      let skippedOlder = 0;
      // Synchronous from here on: a request is applied whole, never interleaved with another.
      for (const write of writes) {
        const key = rowKey(write.entity, write.view);
        const stored = liveRow(key, write.view, nowMs);
        if (stored !== undefined && write.eventTimeMs < stored.eventTimeMs) {
          skippedOlder++;
          continue;
        }
        const values = new Map(stored?.values);
        for (const [feature, value] of write.values) {
          if (value === undefined) values.delete(feature);
          else values.set(feature, value);
        }
        rows.set(key, { eventTimeMs: write.eventTimeMs, values });
        applied++;
      }
      return { applied, skippedOlder };
    },
  };
}

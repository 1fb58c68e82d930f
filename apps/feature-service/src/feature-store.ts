import type { FeatureValue } from '@scoregate/contracts';
import type { FeatureRef } from './feature-ref.js';
import type { FeatureViewDefinition } from './feature-views.js';

/** An entity whose features are read or written. */
export interface EntityRef {
  readonly entityType: string;
  readonly key: string;
}

/** A present feature value, in the type declared for the feature (the FeatureValue oneof). */
export type FeatureScalar = Exclude<FeatureValue['kind'], { case: undefined }>;

/** Freshness of one read value (FeatureStatus in the proto). */
export type Freshness = 'ok' | 'missing' | 'stale';

/** One feature of one entity, as read. */
export type FeatureReading =
  | { readonly status: 'missing' }
  | {
      readonly status: 'ok' | 'stale';
      readonly value: FeatureScalar;
      readonly eventTimeMs: number;
    };

/** One row of one view for one entity, as written. */
export interface FeatureRowWrite {
  readonly entity: EntityRef;
  readonly view: string;
  /** By bare feature name; `undefined` clears the feature. Features not listed keep their value. */
  readonly values: ReadonlyMap<string, FeatureScalar | undefined>;
  /** When the values were true at the source (epoch ms). */
  readonly eventTimeMs: number;
}

export interface WriteOutcome {
  /** Rows written. */
  readonly applied: number;
  /** Rows not written because the stored row has a newer event time. */
  readonly skippedOlder: number;
}

export interface StoreCallOptions {
  /** Stops a read that nobody waits for any more. */
  readonly signal?: AbortSignal;
  /**
   * Absolute deadline (epoch ms; Infinity or undefined = none), usually the gRPC call's: a store
   * that talks to a server stops waiting for it at this time.
   */
  readonly deadline?: number;
}

/**
 * The store's backend cannot answer now (not connected, or no answer in time). Nothing was read;
 * for a write, `outcomeUnknown` says whether the write may nevertheless have been applied.
 */
export class FeatureStoreUnavailableError extends Error {
  readonly outcomeUnknown: boolean;
  constructor(message: string, options: { cause?: unknown; outcomeUnknown?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FeatureStoreUnavailableError';
    this.outcomeUnknown = options.outcomeUnknown ?? false;
  }
}

/**
 * Online feature storage. Both operations take requests that are already validated against the
 * feature views (known views and features, values of the declared types).
 */
export interface FeatureStore {
  /**
   * Reads every ref for every entity: `result[e][r]` answers `entities[e]` × `refs[r]`.
   * MISSING when never written, cleared, past the view's ttl, or when the ref's view belongs to
   * another entity type; STALE when older than the view's max age; OK otherwise.
   */
  read(
    entities: readonly EntityRef[],
    refs: readonly FeatureRef[],
    options?: StoreCallOptions,
  ): Promise<FeatureReading[][]>;
  /**
   * Writes rows in order, all or none. A row older than the stored row of the same entity and
   * view is skipped (time never goes back); an equal event time overwrites, so a replay is
   * harmless. A stored row past its view's ttl counts as absent.
   */
  write(rows: readonly FeatureRowWrite[], options?: StoreCallOptions): Promise<WriteOutcome>;
}

/** The freshness of a value of `view` with event time `eventTimeMs`, at `nowMs`. */
export function freshnessOf(
  view: FeatureViewDefinition,
  eventTimeMs: number,
  nowMs: number,
): Freshness {
  const ageMs = nowMs - eventTimeMs;
  if (view.ttlMs !== undefined && ageMs > view.ttlMs) return 'missing';
  return ageMs > view.maxAgeMs ? 'stale' : 'ok';
}

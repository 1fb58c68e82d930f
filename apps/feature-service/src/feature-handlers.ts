import { durationFromMs, timestampFromMs, type Timestamp } from '@bufbuild/protobuf/wkt';
import {
  FeatureStatus,
  type FeatureResultSchema,
  type FeatureService,
  type FeatureViewSchema,
} from '@scoregate/contracts';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { Code, RpcError, type CallContext, type ServiceHandlers } from '@scoregate/rpc';
import { withSpan } from '@scoregate/telemetry';
import {
  FeatureStoreUnavailableError,
  type FeatureReading,
  type FeatureStore,
} from './feature-store.js';
import type { FeatureCatalog, FeatureViewDefinition } from './feature-views.js';
import { featureClockSkewGuard, type ClockSkewGuard } from './clock-skew.js';
import {
  checkClockSkew,
  validateGetFeaturesRequest,
  validateWriteFeaturesRequest,
} from './request-validation.js';

export interface FeatureHandlersOptions {
  readonly catalog: FeatureCatalog;
  readonly store: FeatureStore;
  /** Refuses rows stamped ahead of this clock. Default: 5 s of tolerance, the process clock. */
  readonly clockSkew?: ClockSkewGuard;
}

/**
 * The FeatureService: validates each request, then reads or writes the store.
 *
 * When the store cannot answer (Redis down or not answering), GetFeatures and WriteFeatures fail
 * at once with UNAVAILABLE and a message naming the store and the reason (e.g. `feature store
 * unavailable: Redis at redis://127.0.0.1:6379 is not connected (reconnecting: connect
 * ECONNREFUSED …)`), instead of answering every value MISSING: a caller must be able to tell
 * "this entity has no data" from "the store is down", and the gateway already degrades on any
 * feature-service error (FEATURES_UNAVAILABLE), scoring with request-time features. The store is
 * never waited on past the call's deadline. A write with a row stamped further ahead of this
 * clock than the tolerance is refused whole (ClockSkewGuard).
 */
export function createFeatureHandlers({
  catalog,
  store,
  clockSkew = featureClockSkewGuard(),
}: FeatureHandlersOptions): ServiceHandlers<typeof FeatureService> {
  const views = catalog.views.map(toFeatureView);
  return {
    async getFeatures(request, context) {
      const { entities, refs } = validateGetFeaturesRequest(request, catalog);
      const readings = await withSpan(
        'feature-store.read',
        { 'scoregate.entities': entities.length, 'scoregate.feature_refs': refs.length },
        () =>
          store
            .read(entities, refs, { signal: context.signal, deadline: context.deadline })
            .catch((error: unknown) => rethrow(error, context)),
      );
      // Every value of a view row shares its event time: one Timestamp per distinct time.
      const timestamps = new Map<number, Timestamp>();
      return {
        results: request.entities.map((entity, e) => ({
          entity,
          values: request.featureRefs.map((ref, r) =>
            toFeatureResult(ref, readings[e]![r]!, timestamps),
          ),
        })),
      };
    },

    async writeFeatures(request, context) {
      const rows = validateWriteFeaturesRequest(request, catalog);
      checkClockSkew(rows, request.source, clockSkew);
      // Last point where giving up is harmless; past it the write goes through whole.
      if (context.signal.aborted) rethrow(context.signal.reason, context);
      return withSpan('feature-store.write', { 'scoregate.rows': rows.length }, () =>
        store
          .write(rows, { deadline: context.deadline })
          .catch((error: unknown) => rethrow(error, context)),
      );
    },

    listFeatureViews() {
      return { views };
    },
  };
}

function toFeatureResult(
  ref: string,
  reading: FeatureReading,
  timestamps: Map<number, Timestamp>,
): MessageInitShape<typeof FeatureResultSchema> {
  if (reading.status === 'missing') return { ref, status: FeatureStatus.MISSING };
  return {
    ref,
    status: reading.status === 'ok' ? FeatureStatus.OK : FeatureStatus.STALE,
    value: { kind: reading.value },
    eventTime: timestampOf(reading.eventTimeMs, timestamps),
  };
}

function timestampOf(ms: number, timestamps: Map<number, Timestamp>): Timestamp {
  let timestamp = timestamps.get(ms);
  if (timestamp === undefined) {
    timestamp = timestampFromMs(ms);
    timestamps.set(ms, timestamp);
  }
  return timestamp;
}

function toFeatureView(view: FeatureViewDefinition): MessageInitShape<typeof FeatureViewSchema> {
  return {
    name: view.name,
    entityType: view.entityType,
    version: view.version,
    features: view.features.map(({ name, dtype, description }) => ({ name, dtype, description })),
    maxAge: durationFromMs(view.maxAgeMs),
    ...(view.ttlMs === undefined ? {} : { ttl: durationFromMs(view.ttlMs) }),
  };
}

/**
 * A call the client gave up on ends as CANCELLED or DEADLINE_EXCEEDED, not as INTERNAL; a store
 * that cannot answer as UNAVAILABLE.
 */
function rethrow(error: unknown, context: CallContext): never {
  if (!context.signal.aborted) {
    if (error instanceof FeatureStoreUnavailableError) {
      const unknown = error.outcomeUnknown
        ? ' (the write may have been applied; retrying it is safe)'
        : '';
      throw new RpcError(
        Code.UNAVAILABLE,
        `feature store unavailable: ${error.message}${unknown}`,
        {
          cause: error,
        },
      );
    }
    throw error;
  }
  const expired = Number.isFinite(context.deadline) && Date.now() >= context.deadline;
  throw expired
    ? new RpcError(Code.DEADLINE_EXCEEDED, 'the deadline was exceeded', { cause: error })
    : new RpcError(Code.CANCELLED, 'the call was cancelled by the client', { cause: error });
}

import { timestampMs } from '@bufbuild/protobuf/wkt';
import { DegradationReason, type FeatureValue } from '@scoregate/contracts';
import type { PredictionInput } from './join-inputs.js';

/**
 * One row of `labeled_examples`: a scored item with the features its model actually used and
 * the outcome observed for it. This is the table data scientists read (README "Labelled
 * examples"); `features`, `outputs` and `reasons` are JSON text.
 */
export interface LabeledExampleRow {
  request_id: string;
  batch_index: number;
  /** 1 for a shadow scoring (never returned to the caller), 0 for the served answer. */
  shadow: number;
  /** Empty for a default answer (no model answered). */
  model: string;
  version: string;
  scorer: string;
  /** The request's first entity key. */
  entity_type: string;
  entity_key: string;
  /** JSON: `[{"ref", "value", "missing", "stale", "defaulted"}]` in the model's input order. */
  features: string;
  /** JSON: `[{"name", "values"}]`, every output of the model. */
  outputs: string;
  score: number;
  degraded: number;
  /** JSON: degradation reasons by name, e.g. `["FEATURES_MISSING"]`. */
  reasons: string;
  label: number;
  predicted_at_ms: number;
  observed_at_ms: number;
  joined_at_ms: number;
  trace_id: string;
  tenant: string;
}

/** The feature value as JSON: a number, string or boolean; null when unset. */
export function featureValueJson(
  value: FeatureValue | undefined,
): number | string | boolean | null {
  const kind = value?.kind;
  switch (kind?.case) {
    case 'doubleValue':
    case 'stringValue':
    case 'boolValue':
      return kind.value;
    case 'int64Value': {
      const n = Number(kind.value);
      return Number.isSafeInteger(n) ? n : kind.value.toString();
    }
    default:
      return null;
  }
}

export function labeledExampleRow(
  prediction: PredictionInput,
  outcome: { label: number; observedAtMs: number; joinedAtMs: number },
): LabeledExampleRow {
  const event = prediction.event;
  const entity = event.entityKeys[0];
  return {
    request_id: prediction.requestId,
    batch_index: prediction.batchIndex,
    shadow: prediction.shadow ? 1 : 0,
    model: event.servedBy?.model ?? '',
    version: event.servedBy?.version ?? '',
    scorer: event.scorer,
    entity_type: entity?.entityType ?? '',
    entity_key: entity?.key ?? '',
    features: JSON.stringify(
      event.features.map((f) => ({
        ref: f.ref,
        value: featureValueJson(f.value),
        missing: f.missing,
        stale: f.stale,
        defaulted: f.defaulted,
      })),
    ),
    outputs: JSON.stringify(event.outputs.map((o) => ({ name: o.name, values: o.values }))),
    score: event.score,
    degraded: event.degraded ? 1 : 0,
    reasons: JSON.stringify(
      event.reasons.map((r) =>
        (DegradationReason[r] ?? String(r)).replace(/^DEGRADATION_REASON_/, ''),
      ),
    ),
    label: outcome.label,
    predicted_at_ms: event.loggedAt === undefined ? 0 : timestampMs(event.loggedAt),
    observed_at_ms: outcome.observedAtMs,
    joined_at_ms: outcome.joinedAtMs,
    trace_id: event.traceId,
    tenant: event.tenant,
  };
}

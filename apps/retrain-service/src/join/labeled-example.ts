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
  /**
   * JSON object: feature ref → the value the model used (number, string or boolean; null when
   * missing and no default applied), in the model's input order.
   */
  features: string;
  /**
   * JSON object: feature ref → its flags (`missing`, `stale`, `defaulted`), only for the features
   * that have one; `{}` when every value was found fresh.
   */
  feature_flags: string;
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

/** The prediction's part of a labelled example (everything but the outcome). */
export type PredictionRow = Omit<LabeledExampleRow, 'label' | 'observed_at_ms' | 'joined_at_ms'>;

export function predictionRow(prediction: PredictionInput): PredictionRow {
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
      Object.fromEntries(event.features.map((f) => [f.ref, featureValueJson(f.value)])),
    ),
    feature_flags: JSON.stringify(Object.fromEntries(flagsOf(event))),
    outputs: JSON.stringify(event.outputs.map((o) => ({ name: o.name, values: o.values }))),
    score: event.score,
    degraded: event.degraded ? 1 : 0,
    reasons: JSON.stringify(
      event.reasons.map((r) =>
        (DegradationReason[r] ?? String(r)).replace(/^DEGRADATION_REASON_/, ''),
      ),
    ),
    predicted_at_ms: event.loggedAt === undefined ? 0 : timestampMs(event.loggedAt),
    trace_id: event.traceId,
    tenant: event.tenant,
  };
}

function flagsOf(event: PredictionInput['event']): [string, string[]][] {
  const flagged: [string, string[]][] = [];
  for (const f of event.features) {
    if (!f.missing && !f.stale && !f.defaulted) continue;
    const flags: string[] = [];
    if (f.missing) flags.push('missing');
    if (f.stale) flags.push('stale');
    if (f.defaulted) flags.push('defaulted');
    flagged.push([f.ref, flags]);
  }
  return flagged;
}

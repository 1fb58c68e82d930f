import { timestampMs } from '@bufbuild/protobuf/wkt';
import type { OutcomeObserved } from '@scoregate/contracts';
import { outcomeInput, type OutcomeInput } from './join-inputs.js';

/** Limits stated in proto/scoregate/retrain/v1/retrain.proto and events.proto. */
export const outcomeLimits = {
  outcomesPerCall: 10_000,
  requestIdBytes: 128,
  sourceBytes: 128,
  entityKeyBytes: 256,
} as const;

// google.protobuf.Timestamp's valid range: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z.
const MIN_TIMESTAMP_SECONDS = -62_135_596_800n;
const MAX_TIMESTAMP_SECONDS = 253_402_300_799n;

/** A field of an outcome that is wrong, relative to the outcome (e.g. `label`), and why. */
export interface OutcomeProblem {
  readonly field: string;
  readonly description: string;
}

/**
 * Checks one outcome (from RecordOutcomes or from the outcome topic) and returns the join's view
 * of it, or the first problem. Clock skew is checked by the caller, who knows the receiving clock.
 */
export function checkOutcome(outcome: OutcomeObserved): OutcomeInput | OutcomeProblem {
  const idBytes = Buffer.byteLength(outcome.requestId, 'utf8');
  if (idBytes === 0)
    return { field: 'request_id', description: 'is required (the request id of the prediction)' };
  if (idBytes > outcomeLimits.requestIdBytes)
    return {
      field: 'request_id',
      description: `is ${idBytes} bytes; at most ${outcomeLimits.requestIdBytes}`,
    };
  if (!Number.isFinite(outcome.label))
    return { field: 'label', description: `must be a finite number, got ${outcome.label}` };
  const observedAt = outcome.observedAt;
  if (observedAt === undefined)
    return { field: 'observed_at', description: 'is required (when the outcome was observed)' };
  if (
    observedAt.seconds < MIN_TIMESTAMP_SECONDS ||
    observedAt.seconds > MAX_TIMESTAMP_SECONDS ||
    observedAt.nanos < 0 ||
    observedAt.nanos > 999_999_999
  )
    return {
      field: 'observed_at',
      description: 'is not a valid timestamp (0001-01-01 to 9999-12-31, nanos 0 to 999999999)',
    };
  if (!Number.isFinite(timestampMs(observedAt)))
    return { field: 'observed_at', description: 'is not a valid timestamp' };
  const sourceBytes = Buffer.byteLength(outcome.source, 'utf8');
  if (sourceBytes > outcomeLimits.sourceBytes)
    return {
      field: 'source',
      description: `is ${sourceBytes} bytes; at most ${outcomeLimits.sourceBytes}`,
    };
  const keyBytes = Buffer.byteLength(outcome.entityKey?.key ?? '', 'utf8');
  if (keyBytes > outcomeLimits.entityKeyBytes)
    return {
      field: 'entity_key.key',
      description: `is ${keyBytes} bytes; at most ${outcomeLimits.entityKeyBytes}`,
    };
  return outcomeInput(outcome);
}

export function isProblem(value: OutcomeInput | OutcomeProblem): value is OutcomeProblem {
  return 'description' in value;
}

import { timestampMs } from '@bufbuild/protobuf/wkt';
import type { OutcomeObserved, PredictionLogged } from '@scoregate/contracts';

/** A prediction as the join sees it: its identity and the whole event. */
export interface PredictionInput {
  readonly requestId: string;
  readonly batchIndex: number;
  readonly shadow: boolean;
  readonly event: PredictionLogged;
}

/** An outcome as the join sees it (already validated). */
export interface OutcomeInput {
  readonly requestId: string;
  readonly batchIndex: number;
  readonly label: number;
  readonly observedAtMs: number;
  readonly entityType: string;
  readonly entityKey: string;
  readonly scorer: string;
  readonly source: string;
}

export function predictionInput(event: PredictionLogged): PredictionInput {
  return {
    requestId: event.requestId,
    batchIndex: event.batchIndex,
    shadow: event.shadow,
    event,
  };
}

/** The join's view of a valid OutcomeObserved (observed_at set, label finite). */
export function outcomeInput(event: OutcomeObserved): OutcomeInput {
  if (event.observedAt === undefined) throw new Error('observed_at is required');
  return {
    requestId: event.requestId,
    batchIndex: event.batchIndex,
    label: event.label,
    observedAtMs: timestampMs(event.observedAt),
    entityType: event.entityKey?.entityType ?? '',
    entityKey: event.entityKey?.key ?? '',
    scorer: event.scorer,
    source: event.source,
  };
}

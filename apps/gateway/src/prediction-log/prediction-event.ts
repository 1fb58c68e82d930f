import type { MessageInitShape } from '@bufbuild/protobuf';
import {
  FeatureStatus,
  type FeatureInput,
  type FeatureResult,
  type FeatureUsedSchema,
  type FeatureValue,
  type ScoreResponseSchema,
} from '@scoregate/contracts';
import type { ValidScoreRequest } from '../score-request.js';
import type { PredictionEventInit } from './prediction-log.js';

type FeatureUsedInit = MessageInitShape<typeof FeatureUsedSchema>;

function isNumeric(value: FeatureValue | undefined): value is FeatureValue {
  const kind = value?.kind.case;
  return kind === 'doubleValue' || kind === 'int64Value' || kind === 'boolValue';
}

/**
 * The features a model used, in its contract's input order, with where each came from — the
 * same choices as `buildFeatureVector`: a request-time value wins, then a fresh stored value,
 * then the contract's default for an optional feature; otherwise it is stale or missing.
 */
export function featuresUsed(
  contract: readonly FeatureInput[],
  stored: ReadonlyMap<string, FeatureResult>,
  requestFeatures: Readonly<Record<string, FeatureValue>>,
): FeatureUsedInit[] {
  return contract.map((input) => {
    const bareName = input.ref.slice(input.ref.indexOf(':') + 1);
    const fromRequest = requestFeatures[input.ref] ?? requestFeatures[bareName];
    if (isNumeric(fromRequest)) return { ref: input.ref, value: fromRequest };
    const result = stored.get(input.ref);
    if (result?.status === FeatureStatus.OK && isNumeric(result.value))
      return { ref: input.ref, value: result.value };
    const isStale = result?.status === FeatureStatus.STALE && isNumeric(result.value);
    if (!input.required && isNumeric(input.defaultValue))
      return {
        ref: input.ref,
        value: input.defaultValue,
        defaulted: true,
        missing: !isStale,
        stale: isStale,
      };
    return isStale
      ? { ref: input.ref, value: result.value, stale: true }
      : { ref: input.ref, missing: true };
  });
}

export interface AnswerToLog {
  /** The validated request. */
  readonly request: ValidScoreRequest;
  /** The answer returned to the client. */
  readonly response: MessageInitShape<typeof ScoreResponseSchema>;
  /** The answering model's features (`featuresUsed`); empty/absent for a default answer. */
  readonly features?: readonly FeatureUsedInit[];
  /** Position in a ScoreBatch request (0 for Score). */
  readonly batchIndex?: number;
  /** True for a shadow scoring. */
  readonly shadow?: boolean;
  /** The authenticated tenant of the call (`tenantOf(context)`); absent without authentication. */
  readonly tenant?: string;
}

/** What `lazyPredictionEvent` needs: an answer, and the inputs its features are taken from. */
export interface LazyAnswerToLog extends Omit<AnswerToLog, 'features'> {
  /** The answering model's contract; absent for a default answer (no features). */
  readonly contract?: readonly FeatureInput[] | undefined;
  readonly stored: ReadonlyMap<string, FeatureResult>;
  readonly requestFeatures: Readonly<Record<string, FeatureValue>>;
}

/**
 * The event of one answer, to be built later in the prediction log's flusher, off the request
 * path. Made here and not in the handler on purpose: a closure created inside a handler keeps the
 * handler's whole scope alive (V8 shares one context per scope) — the call, its CallContext, its
 * downstream calls — for as long as the event waits in the buffer. This one holds only `answer`.
 */
export function lazyPredictionEvent(answer: LazyAnswerToLog): () => PredictionEventInit {
  return () => {
    const { contract, stored, requestFeatures, ...rest } = answer;
    return predictionEventFromAnswer({
      ...rest,
      features: contract ? featuresUsed(contract, stored, requestFeatures) : [],
    });
  };
}

/** The PredictionLogged event of one answer, ready for `PredictionLog.record`. */
export function predictionEventFromAnswer(answer: AnswerToLog): PredictionEventInit {
  const { request, response } = answer;
  return {
    requestId: response.requestId ?? request.requestId,
    scorer: request.scorer,
    entityKeys: request.entityKeys.map((e) => ({ entityType: e.entityType, key: e.key })),
    ...(response.servedBy === undefined ? {} : { servedBy: response.servedBy }),
    features: answer.features === undefined ? [] : [...answer.features],
    outputs: response.outputs ?? [],
    score: response.score ?? 0,
    degraded: response.degraded ?? false,
    reasons: response.reasons ?? [],
    ...(response.timings === undefined ? {} : { timings: response.timings }),
    traceId: response.traceId ?? '',
    batchIndex: answer.batchIndex ?? 0,
    shadow: answer.shadow ?? false,
    tenant: answer.tenant ?? '',
  };
}

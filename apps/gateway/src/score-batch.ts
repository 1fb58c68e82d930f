import type { MessageInitShape } from '@bufbuild/protobuf';
import type { ScoreBatchRequest, ScoreBatchResponseSchema } from '@scoregate/contracts';
import type { CallContext } from '@scoregate/rpc';
import { currentTraceId } from '@scoregate/telemetry';
import { checkRequestFeaturesUsed } from './request-features.js';
import { scoreBatchDownChain, type BatchItemState } from './batch-chain.js';
import { newDegradation } from './degradation.js';
import { fetchFeatures } from './fetch-features.js';
import { lazyPredictionEvent } from './prediction-log/index.js';
import { answerFields, timingsOf, type AnswerFields, type TimingsInit } from './score-answer.js';
import { chainInputFor, forCall, type ResolvedScoreDependencies } from './score-dependencies.js';
import { validateScoreBatchRequest, type ValidScoreRequest } from './score-request.js';
import { entityOf, resolveRoute } from './score-route.js';
import { StageTimer } from './stage-timer.js';

type ScoreBatchResponseInit = MessageInitShape<typeof ScoreBatchResponseSchema>;

/** The ScoreBatch response as built here: each item's answer, in item order, and the timings. */
interface BatchResponse {
  readonly requestId: string;
  readonly traceId: string;
  readonly results: AnswerFields[];
  readonly timings: TimingsInit;
}

/**
 * Serves ScoreBatch: one feature read for every item, then one ModelInfer per chosen model for
 * all the items it can answer; an item whose features a model lacks goes on down the chain.
 * Results come back in item order; the budget and timings cover the whole batch. Every item's
 * answer becomes its own PredictionLogged event (the batch's request id, the item's index).
 */
export async function scoreBatch(
  resolvedDeps: ResolvedScoreDependencies,
  request: ScoreBatchRequest,
  context: CallContext,
): Promise<ScoreBatchResponseInit> {
  const { head, items: valid } = validateScoreBatchRequest(request);
  const { tenant, deps } = forCall(resolvedDeps, context, head);
  const timer = new StageTimer();
  const { route, budget } = await resolveRoute(deps, head.scorer, head.budgetMs, context, timer);
  valid.forEach((item, i) =>
    checkRequestFeaturesUsed(route, item.requestFeatures, `items[${i}].request_features`),
  );
  const entities = valid.map((item, i) =>
    entityOf(route, item.entityKeys, `items[${i}].entity_keys`),
  );
  const degradations = valid.map(() => newDegradation());
  const stored = await fetchFeatures(
    deps,
    { route, entities, budget, context, timer, detail: `x${entities.length}` },
    degradations,
  );
  const items: BatchItemState[] = valid.map((item, i) => ({
    stored: stored[i]!,
    requestFeatures: item.requestFeatures,
    degradation: degradations[i]!,
  }));
  const chain = chainInputFor(deps, { route, budget, context, requestId: head.requestId, timer });
  await scoreBatchDownChain(chain, items);
  const response: BatchResponse = {
    requestId: head.requestId,
    traceId: currentTraceId(),
    results: items.map((item) => answerFields(route, item.answer, item.degradation)),
    timings: timingsOf(budget, timer),
  };
  // Off the request path: each event is built in the prediction log's flusher.
  logAnswers(deps, { valid, items, response, tenant });
  return response;
}

/** Each item's answer becomes its own PredictionLogged event, with its index in the batch. */
function logAnswers(
  deps: ResolvedScoreDependencies,
  batch: {
    readonly valid: readonly ValidScoreRequest[];
    readonly items: readonly BatchItemState[];
    readonly response: BatchResponse;
    readonly tenant: string | undefined;
  },
): void {
  const { valid, items, response, tenant } = batch;
  deps.predictionLog?.recordAll(
    items.map(({ answer, stored, requestFeatures }, i) =>
      lazyPredictionEvent({
        request: valid[i]!,
        response: {
          ...response.results[i]!,
          requestId: response.requestId,
          traceId: response.traceId,
          timings: response.timings,
        },
        contract: answer?.chainModel.contract,
        stored,
        requestFeatures,
        batchIndex: i,
        ...(tenant === undefined ? {} : { tenant }),
      }),
    ),
  );
}

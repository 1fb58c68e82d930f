import type { MessageInitShape } from '@bufbuild/protobuf';
import {
  DegradationReason,
  type ScoreBatchRequest,
  type ScoreBatchResponseSchema,
  type ScoreRequest,
} from '@scoregate/contracts';
import { nowMs } from '@scoregate/resilience';
import { RpcError, type CallContext } from '@scoregate/rpc';
import { currentTraceId } from '@scoregate/telemetry';
import { newDegradation, scoreBatchDownChain, type BatchItemState } from './fallback-chain.js';
import { outputsOfRow, scoreOfRow } from './inference.js';
import { lazyPredictionEvent } from './prediction-log/index.js';
import {
  entityOf,
  fetchFeatures,
  forCall,
  isDegraded,
  resolveBudget,
  type ResolvedScoreDependencies,
} from './score-handler.js';
import { validateScoreRequest } from './score-request.js';
import { StageTimer, durationOf } from './stage-timer.js';

const MAX_ITEMS = 1000;

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
): Promise<MessageInitShape<typeof ScoreBatchResponseSchema>> {
  if (request.items.length === 0)
    throw RpcError.invalidArgument('items', 'at least one item is required');
  if (request.items.length > MAX_ITEMS) {
    throw RpcError.invalidArgument(
      'items',
      `at most ${MAX_ITEMS} items, got ${request.items.length}`,
    );
  }
  // Each item follows the rules of a Score request; the batch's scorer/budget/id are checked once.
  const head = validateScoreRequest({
    scorer: request.scorer,
    entityKeys: request.items[0]!.entityKeys,
    requestFeatures: {},
    budget: request.budget,
    requestId: request.requestId,
  } as ScoreRequest);
  const valid = request.items.map((item, i) => {
    try {
      return validateScoreRequest({
        scorer: request.scorer,
        entityKeys: item.entityKeys,
        requestFeatures: item.requestFeatures,
        requestId: head.requestId,
      } as ScoreRequest);
    } catch (error) {
      const rpcError = RpcError.from(error);
      throw RpcError.invalidArgument(`items[${i}]`, rpcError.message);
    }
  });
  const { tenant, deps } = forCall(resolvedDeps, context, head);
  const timer = new StageTimer();
  const { route, budget } = await resolveBudget(deps, head.scorer, head.budgetMs, context, timer);
  const entities = valid.map((item, i) =>
    entityOf(route, item.entityKeys, `items[${i}].entity_keys`),
  );
  const degradations = valid.map(() => newDegradation());
  const stored = await timer.run(
    'features',
    () => fetchFeatures(deps, route, entities, budget, context, degradations),
    `x${entities.length}`,
  );
  const items: BatchItemState[] = valid.map((item, i) => ({
    stored: stored[i]!,
    requestFeatures: item.requestFeatures,
    degradation: degradations[i]!,
  }));
  await scoreBatchDownChain(
    {
      route,
      backends: deps.scoring,
      resilience: deps.resilience,
      budget,
      context,
      requestId: head.requestId,
      timer,
      logger: deps.logger,
    },
    items,
  );
  const results = items.map((item) => {
    const { answer, degradation } = item;
    if (!answer) degradation.reasons.add(DegradationReason.DEFAULT_ANSWER);
    const degraded = isDegraded(degradation, answer?.position);
    return {
      ...(answer
        ? {
            score: scoreOfRow(route, answer.inferred.tensors, answer.row),
            outputs: outputsOfRow(answer.inferred.tensors, answer.row),
            servedBy: {
              model: answer.chainModel.model,
              version: answer.inferred.version,
              alias: answer.chainModel.alias,
            },
          }
        : { score: route.scorer.defaultAnswer?.score ?? 0, servedBy: { alias: 'default' } }),
      degraded,
      reasons: degraded ? [...degradation.reasons] : [],
      missingFeatures: [...degradation.missing],
      staleFeatures: [...degradation.stale],
    };
  });
  const totalMs = nowMs() - budget.startedAt;
  const response = {
    requestId: head.requestId,
    traceId: currentTraceId(),
    results,
    timings: {
      budget: durationOf(budget.totalMs),
      total: durationOf(totalMs),
      margin: durationOf(budget.totalMs - totalMs),
      stages: timer.stages,
    },
  };
  // Off the request path: each event is built in the prediction log's flusher.
  deps.predictionLog?.recordAll(
    items.map(({ answer, stored, requestFeatures }, i) =>
      lazyPredictionEvent({
        request: valid[i]!,
        response: {
          ...results[i]!,
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
  return response;
}

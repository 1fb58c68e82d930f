import type { MessageInitShape } from '@bufbuild/protobuf';
import type { EntityKey, ScoreRequest, ScoreResponseSchema } from '@scoregate/contracts';
import type { Budget } from '@scoregate/resilience';
import type { CallContext } from '@scoregate/rpc';
import { currentTraceId } from '@scoregate/telemetry';
import { checkRequestFeaturesUsed } from './request-features.js';
import { usableRow, type EntityFeatures } from './chain-plan.js';
import { newDegradation } from './degradation.js';
import { fetchFeatures } from './fetch-features.js';
import { scoreDownChain, type ModelAnswer } from './fallback-chain.js';
import { lazyPredictionEvent } from './prediction-log/index.js';
import type { ChainModel, Route } from './route-resolver.js';
import { chooseCanary } from './routes/canary.js';
import { chooseShadow } from './routes/shadow.js';
import { answerFields, timingsOf } from './score-answer.js';
import { chainInputFor, forCall, type ResolvedScoreDependencies } from './score-dependencies.js';
import { validateScoreRequest, type ValidScoreRequest } from './score-request.js';
import { entityOf, resolveRoute } from './score-route.js';
import type { ShadowLogContext } from './shadow-log.js';
import { StageTimer } from './stage-timer.js';

type ScoreResponseInit = MessageInitShape<typeof ScoreResponseSchema>;

/** Where one Score call goes. */
interface ScoreTarget {
  /** The scorer's route, led by its canary for a canary share of entities. */
  readonly route: Route;
  readonly budget: Budget;
  readonly entity: EntityKey;
  /** The shadow model this entity is mirrored to, if any. */
  readonly shadowModel: ChainModel | undefined;
}

/** What one Score call knows once it is answered, for the prediction log and the shadow. */
interface ScoredCall {
  readonly valid: ValidScoreRequest;
  readonly tenant: string | undefined;
  readonly target: ScoreTarget;
  readonly features: EntityFeatures;
  readonly answer: ModelAnswer | undefined;
  readonly response: ScoreResponseInit;
}

/** Serves one Score call: resolve → features → best model that can answer in time → answer. */
export async function score(
  resolvedDeps: ResolvedScoreDependencies,
  request: ScoreRequest,
  context: CallContext,
): Promise<ScoreResponseInit> {
  const valid = validateScoreRequest(request);
  const { tenant, deps } = forCall(resolvedDeps, context, valid);
  const timer = new StageTimer();
  const target = await resolveTarget(deps, valid, context, timer);
  const { route, budget, entity, shadowModel } = target;
  const degradation = newDegradation();
  // The shadow model's features are read with the chain's, in the same call.
  const [stored] = await fetchFeatures(
    deps,
    {
      route: shadowModel ? { ...route, chain: [...route.chain, shadowModel] } : route,
      entities: [entity],
      budget,
      context,
      timer,
    },
    [degradation],
  );
  const features = { stored: stored!, requestFeatures: valid.requestFeatures };
  const chain = chainInputFor(deps, { route, budget, context, requestId: valid.requestId, timer });
  const answer = await scoreDownChain(chain, features, degradation);
  const response: ScoreResponseInit = {
    requestId: valid.requestId,
    traceId: currentTraceId(),
    ...answerFields(route, answer, degradation),
    timings: timingsOf(budget, timer),
  };
  // Off the request path: neither may slow or fail the answer.
  const scored = { valid, tenant, target, features, answer, response };
  logAnswer(deps, scored);
  mirrorToShadow(deps, scored);
  return response;
}

/** The route (a canary may lead it), the budget, the entity and its shadow model. */
async function resolveTarget(
  deps: ResolvedScoreDependencies,
  valid: ValidScoreRequest,
  context: CallContext,
  timer: StageTimer,
): Promise<ScoreTarget> {
  const resolved = await resolveRoute(deps, valid.scorer, valid.budgetMs, context, timer);
  checkRequestFeaturesUsed(resolved.route, valid.requestFeatures, 'request_features');
  const entity = entityOf(resolved.route, valid.entityKeys, 'entity_keys');
  // A canary share of entities (sticky by key) is served by the canary first.
  const { route } = chooseCanary(resolved.route, entity);
  const shadowModel = deps.shadow ? chooseShadow(resolved.route, entity) : undefined;
  return { route, budget: resolved.budget, entity, shadowModel };
}

/** The answer becomes a PredictionLogged event, built later in the prediction log's flusher. */
function logAnswer(deps: ResolvedScoreDependencies, scored: ScoredCall): void {
  const { valid, tenant, features, answer, response } = scored;
  deps.predictionLog?.record(
    lazyPredictionEvent({
      request: valid,
      response,
      contract: answer?.chainModel.contract,
      stored: features.stored,
      requestFeatures: features.requestFeatures,
      ...(tenant === undefined ? {} : { tenant }),
    }),
  );
}

/** Starts the shadow model on the same entity, when it has the features it needs. */
function mirrorToShadow(deps: ResolvedScoreDependencies, scored: ScoredCall): void {
  const { valid, tenant, target, features } = scored;
  const { route, entity, shadowModel } = target;
  if (!shadowModel || !deps.shadow) return;
  const row = usableRow(shadowModel, features);
  if (!row) return;
  const shadowContext: ShadowLogContext = {
    route,
    request: valid,
    stored: features.stored,
    requestFeatures: features.requestFeatures,
    ...(tenant === undefined ? {} : { tenant }),
  };
  deps.shadow.run({
    scorer: route.scorer.name,
    requestId: valid.requestId,
    entity,
    model: shadowModel,
    row,
    context: shadowContext,
  });
}

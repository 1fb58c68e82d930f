import type { MessageInitShape } from '@bufbuild/protobuf';
import {
  DegradationReason,
  type FeatureResult,
  type FeatureService,
  type GRPCInferenceService,
  type EntityKey,
  type ScoreRequest,
  type ScoreResponseSchema,
} from '@scoregate/contracts';
import { Budget, nowMs } from '@scoregate/resilience';
import { RpcError, type CallContext, type RpcClient, type RpcLogger } from '@scoregate/rpc';
import { currentTraceId } from '@scoregate/telemetry';
import { tenantOf } from './auth/index.js';
import { effectiveBudgetMs } from './budget.js';
import {
  cheapestModelMs,
  createChainResilience,
  newDegradation,
  scoreDownChain,
  type ChainResilience,
  type Degradation,
} from './fallback-chain.js';
import { outputsOfRow, scoreOfRow } from './inference.js';
import type { Route, RouteResolver } from './route-resolver.js';
import { singleScoringBackend, type ScoringBackends } from './scoring-backends.js';
import { validateScoreRequest } from './score-request.js';
import { StageTimer, durationOf } from './stage-timer.js';
import { buildFeatureVector } from './feature-vector.js';
import { lazyPredictionEvent, type PredictionLog } from './prediction-log/index.js';
import { chooseCanary } from './routes/canary.js';
import { chooseShadow, type ShadowRunner } from './routes/shadow.js';
import type { ShadowLogContext } from './shadow-log.js';

export interface ScoreDependencies {
  readonly routes: RouteResolver;
  readonly features: RpcClient<typeof FeatureService>;
  /** The scoring-service backends (per model with SCORING_ROUTES), or one client for all. */
  readonly scoring: ScoringBackends | RpcClient<typeof GRPCInferenceService>;
  readonly logger: RpcLogger;
  readonly defaultBudgetMs: number;
  /** Kept back from every downstream deadline so the answer itself still fits the budget. */
  readonly responseReserveMs: number;
  /** Circuit breakers, latency tracking and hedging; one set per gateway. */
  readonly resilience?: ChainResilience;
  /** Every answer becomes a PredictionLogged event (off the request path). */
  readonly predictionLog?: PredictionLog;
  /** Mirrors a share of requests to the scorer's shadow model, off the request path. */
  readonly shadow?: ShadowRunner;
}

/** The dependencies with every optional part filled in. */
export interface ResolvedScoreDependencies extends ScoreDependencies {
  readonly scoring: ScoringBackends;
  readonly resilience: ChainResilience;
}

export function resolveScoreDependencies(deps: ScoreDependencies): ResolvedScoreDependencies {
  return {
    ...deps,
    scoring: 'forModel' in deps.scoring ? deps.scoring : singleScoringBackend(deps.scoring),
    resilience: deps.resilience ?? createChainResilience(),
  };
}

/**
 * The logger of one call: every line it writes names the request id, the scorer and, when
 * authentication is on, the tenant. Fields are merged only when a line is written.
 */
export function requestLogger(
  logger: RpcLogger,
  fields: Readonly<Record<string, string>>,
): RpcLogger {
  const merged = (objectOrMessage: object | string): object =>
    typeof objectOrMessage === 'string' ? fields : { ...fields, ...objectOrMessage };
  const text = (objectOrMessage: object | string, message?: string) =>
    typeof objectOrMessage === 'string' ? objectOrMessage : message;
  return {
    info: (o: object | string, m?: string) => logger.info(merged(o), text(o, m)),
    warn: (o: object | string, m?: string) => logger.warn(merged(o), text(o, m)),
    error: (o: object | string, m?: string) => logger.error(merged(o), text(o, m)),
  };
}

/**
 * The tenant of the call and the dependencies it runs with: the same, but with a logger whose
 * lines name the call (`requestLogger`).
 */
export function forCall(
  deps: ResolvedScoreDependencies,
  context: CallContext,
  request: { readonly requestId: string; readonly scorer: string },
): { tenant: string | undefined; deps: ResolvedScoreDependencies } {
  const tenant = tenantOf(context);
  const logger = requestLogger(deps.logger, {
    requestId: request.requestId,
    scorer: request.scorer,
    ...(tenant === undefined ? {} : { tenant }),
  });
  return { tenant, deps: { ...deps, logger } };
}

/** Resolves the route and the request's effective budget (client deadline, request, scorer). */
export async function resolveBudget(
  deps: ScoreDependencies,
  scorer: string,
  requestBudgetMs: number | undefined,
  context: CallContext,
  timer: StageTimer,
): Promise<{ route: Route; budget: Budget }> {
  const started = nowMs();
  const provisionalDeadline =
    started +
    effectiveBudgetMs({
      clientRemainingMs: context.remainingMs(),
      requestBudgetMs,
      scorerBudgetMs: undefined,
      defaultBudgetMs: deps.defaultBudgetMs,
    });
  const route = await timer.run('resolve', () =>
    deps.routes.resolve(scorer, context, provisionalDeadline),
  );
  const budgetMs = effectiveBudgetMs({
    clientRemainingMs: context.remainingMs() + (nowMs() - started),
    requestBudgetMs,
    scorerBudgetMs: route.budgetMs,
    defaultBudgetMs: deps.defaultBudgetMs,
  });
  // Downstream calls end early enough for the answer (perhaps the default) to fit the budget.
  return { route, budget: new Budget(Math.max(budgetMs, 0.001), deps.responseReserveMs, started) };
}

/** The key of the scorer's entity type among `keys`, or INVALID_ARGUMENT. */
export function entityOf(route: Route, keys: readonly EntityKey[], field: string): EntityKey {
  const entityType = route.scorer.entityType;
  const entity = keys.find((e) => e.entityType === entityType);
  if (!entity) {
    throw RpcError.invalidArgument(
      field,
      `scorer "${route.scorer.name}" scores "${entityType}" entities; no key of that type was given`,
    );
  }
  return entity;
}

/**
 * Reads the features every chain model needs for `entities`, in one call, leaving the time the
 * cheapest model needs after it. Failure: FEATURES_UNAVAILABLE on every degradation, and empty
 * maps — models whose inputs come with the request can still answer.
 */
export async function fetchFeatures(
  deps: ResolvedScoreDependencies,
  route: Route,
  entities: readonly EntityKey[],
  budget: Budget,
  context: CallContext,
  degradations: readonly Degradation[],
): Promise<Map<string, FeatureResult>[]> {
  const refs = [...new Set(route.chain.flatMap((m) => m.contract.map((f) => f.ref)))];
  const stored = entities.map(() => new Map<string, FeatureResult>());
  if (refs.length === 0) return stored;
  const restNeedsMs = cheapestModelMs({
    route,
    backends: deps.scoring,
    resilience: deps.resilience,
    budget,
    context,
    requestId: '',
    logger: deps.logger,
  });
  try {
    const reply = await deps.features.getFeatures(
      { entities: [...entities], featureRefs: refs },
      // Features get at least half of what is left, however slow the models have become.
      { parent: context, deadline: budget.hopDeadline(Math.min(restNeedsMs, budget.hopMs() / 2)) },
    );
    reply.results.forEach((result, i) => {
      for (const value of result.values) stored[i]?.set(value.ref, value);
    });
  } catch (error) {
    degradations.forEach((d) => d.reasons.add(DegradationReason.FEATURES_UNAVAILABLE));
    deps.logger.warn({ err: error }, 'feature-service failed; scoring with request features only');
  }
  return stored;
}

/** Degraded: not answered by the chain's first model, or answered without stored features. */
export function isDegraded(degradation: Degradation, position: number | undefined): boolean {
  return (
    position === undefined ||
    position > 0 ||
    degradation.reasons.has(DegradationReason.FEATURES_UNAVAILABLE)
  );
}

/** Serves one Score call: resolve → features → best model that can answer in time → answer. */
export async function score(
  resolvedDeps: ResolvedScoreDependencies,
  request: ScoreRequest,
  context: CallContext,
): Promise<MessageInitShape<typeof ScoreResponseSchema>> {
  const valid = validateScoreRequest(request);
  const { tenant, deps } = forCall(resolvedDeps, context, valid);
  const timer = new StageTimer();
  const resolved = await resolveBudget(deps, valid.scorer, valid.budgetMs, context, timer);
  const { budget } = resolved;
  const entity = entityOf(resolved.route, valid.entityKeys, 'entity_keys');
  // A canary share of entities (sticky by key) is served by the canary first.
  const { route } = chooseCanary(resolved.route, entity);
  const shadowModel = deps.shadow ? chooseShadow(resolved.route, entity) : undefined;
  const degradation = newDegradation();
  const [stored] = await timer.run('features', () =>
    fetchFeatures(
      deps,
      shadowModel ? { ...route, chain: [...route.chain, shadowModel] } : route,
      [entity],
      budget,
      context,
      [degradation],
    ),
  );
  const answer = await scoreDownChain(
    {
      route,
      backends: deps.scoring,
      resilience: deps.resilience,
      budget,
      context,
      requestId: valid.requestId,
      timer,
      logger: deps.logger,
    },
    stored!,
    valid.requestFeatures,
    degradation,
  );

  if (!answer) degradation.reasons.add(DegradationReason.DEFAULT_ANSWER);
  const degraded = isDegraded(degradation, answer?.position);
  const totalMs = nowMs() - budget.startedAt;
  const response: MessageInitShape<typeof ScoreResponseSchema> = {
    requestId: valid.requestId,
    traceId: currentTraceId(),
    ...(answer
      ? {
          score: scoreOfRow(route, answer.tensors, 0),
          outputs: outputsOfRow(answer.tensors, 0),
          servedBy: {
            model: answer.chainModel.model,
            version: answer.version,
            alias: answer.chainModel.alias,
          },
        }
      : { score: route.scorer.defaultAnswer?.score ?? 0, servedBy: { alias: 'default' } }),
    degraded,
    reasons: degraded ? [...degradation.reasons] : [],
    missingFeatures: [...degradation.missing],
    staleFeatures: [...degradation.stale],
    timings: {
      budget: durationOf(budget.totalMs),
      total: durationOf(totalMs),
      margin: durationOf(budget.totalMs - totalMs),
      stages: timer.stages,
    },
  };
  // Off the request path: neither may slow or fail the answer.
  deps.predictionLog?.record(
    lazyPredictionEvent({
      request: valid,
      response,
      contract: answer?.chainModel.contract,
      stored: stored!,
      requestFeatures: valid.requestFeatures,
      ...(tenant === undefined ? {} : { tenant }),
    }),
  );
  if (shadowModel && deps.shadow) {
    const row = buildFeatureVector(shadowModel.contract, stored!, valid.requestFeatures);
    if (row.missing.length === 0 && row.stale.length === 0) {
      const shadowContext: ShadowLogContext = {
        route,
        request: valid,
        stored: stored!,
        requestFeatures: valid.requestFeatures,
        ...(tenant === undefined ? {} : { tenant }),
      };
      deps.shadow.run({
        scorer: route.scorer.name,
        requestId: valid.requestId,
        entity,
        model: shadowModel,
        row: row.values,
        context: shadowContext,
      });
    }
  }
  return response;
}

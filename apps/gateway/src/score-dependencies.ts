import type { FeatureService, GRPCInferenceService } from '@scoregate/contracts';
import type { Budget } from '@scoregate/resilience';
import type { CallContext, RpcClient, RpcLogger } from '@scoregate/rpc';
import { tenantOf } from './auth/index.js';
import { createChainResilience, type ChainResilience } from './chain-resilience.js';
import type { ChainInput } from './fallback-chain.js';
import { FeatureCircuit } from './feature-circuit.js';
import type { PredictionLog } from './prediction-log/index.js';
import type { Route, RouteResolver } from './route-resolver.js';
import type { ShadowRunner } from './routes/shadow.js';
import { singleScoringBackend, type ScoringBackends } from './scoring-backends.js';
import type { StageTimer } from './stage-timer.js';

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
  /** The circuit on feature reads; one per gateway. */
  readonly featureCircuit?: FeatureCircuit;
  /** Every answer becomes a PredictionLogged event (off the request path). */
  readonly predictionLog?: PredictionLog;
  /** Mirrors a share of requests to the scorer's shadow model, off the request path. */
  readonly shadow?: ShadowRunner;
}

/** The dependencies with every optional part filled in. */
export interface ResolvedScoreDependencies extends ScoreDependencies {
  readonly scoring: ScoringBackends;
  readonly resilience: ChainResilience;
  readonly featureCircuit: FeatureCircuit;
}

/** The feature circuit when none is given: opens after 10 failed reads in a row, for 1 s. */
const DEFAULT_FEATURE_CIRCUIT = { consecutiveFailures: 10, openMs: 1_000 };

export function resolveScoreDependencies(deps: ScoreDependencies): ResolvedScoreDependencies {
  return {
    ...deps,
    scoring: 'forModel' in deps.scoring ? deps.scoring : singleScoringBackend(deps.scoring),
    resilience: deps.resilience ?? createChainResilience(),
    featureCircuit:
      deps.featureCircuit ??
      new FeatureCircuit({ ...DEFAULT_FEATURE_CIRCUIT, logger: deps.logger }),
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

/** What the fallback chain needs for one call. */
export function chainInputFor(
  deps: ResolvedScoreDependencies,
  call: {
    readonly route: Route;
    readonly budget: Budget;
    readonly context: CallContext;
    readonly requestId: string;
    readonly timer: StageTimer;
  },
): ChainInput {
  return { ...call, backends: deps.scoring, resilience: deps.resilience, logger: deps.logger };
}

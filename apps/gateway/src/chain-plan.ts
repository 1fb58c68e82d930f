import { DegradationReason, type FeatureResult, type FeatureValue } from '@scoregate/contracts';
import type { Budget } from '@scoregate/resilience';
import { modelKey, type ChainResilience } from './chain-resilience.js';
import { recordFeatureGaps, type Degradation } from './degradation.js';
import { buildFeatureVector } from './feature-vector.js';
import type { ChainModel, Route } from './route-resolver.js';
import type { ScoringBackend, ScoringBackends } from './scoring-backends.js';

/** What deciding which model may run needs: the chain, its backends, what is known of them, time. */
export interface PlanInput {
  readonly route: Route;
  readonly backends: ScoringBackends;
  readonly resilience: ChainResilience;
  readonly budget: Budget;
}

/** The features at hand for one entity: read from the store, and sent with the request. */
export interface EntityFeatures {
  readonly stored: ReadonlyMap<string, FeatureResult>;
  readonly requestFeatures: Readonly<Record<string, FeatureValue>>;
}

/**
 * The model's input row for one entity, or undefined when a required feature is missing or stale:
 * the model cannot answer for it. The gaps are recorded on `degradation` when one is given.
 */
export function usableRow(
  chainModel: ChainModel,
  entity: EntityFeatures,
  degradation?: Degradation,
): Float32Array | undefined {
  const vector = buildFeatureVector(
    chainModel.contract,
    entity.stored,
    entity.requestFeatures,
    chainModel,
  );
  if (vector.missing.length === 0 && vector.stale.length === 0) return vector.values;
  if (degradation) recordFeatureGaps(degradation, vector);
  return undefined;
}

/** How a chain treats the time left. Score and ScoreBatch differ: see their two rules below. */
export interface BudgetRule {
  /** Once nothing is left for a model call: stop going down the chain, or pass each model over. */
  readonly whenSpent: 'stop' | 'pass-over';
  /** The chain's last model is tried even when its observed p95 no longer fits what is left. */
  readonly lastModelAlwaysTried: boolean;
}

/**
 * Score gives its last model a last chance, whatever its p95: the call still ends at the hop
 * deadline, and a model never tried again would never show that it got faster (its single-entity
 * calls are what the latency tracker learns from). Once the budget is spent, the chain stops.
 */
export const SCORE_BUDGET_RULE: BudgetRule = { whenSpent: 'stop', lastModelAlwaysTried: true };

/**
 * ScoreBatch gives no last chance: a model whose p95 does not fit is passed over even when it is
 * the last, and its items get the default answer. Of Score's two reasons only the deadline one
 * would hold here: batch calls feed no latency record, so trying would not show that the model
 * got faster. Once the budget is spent, each later model is still passed over in turn, so an
 * item's answer also names the features and circuits that kept it from them.
 */
export const BATCH_BUDGET_RULE: BudgetRule = {
  whenSpent: 'pass-over',
  lastModelAlwaysTried: false,
};

/** A model that may be called now. */
export interface RunnableModel {
  /** Position in the scorer's chain (0 = best). */
  readonly position: number;
  readonly chainModel: ChainModel;
  readonly backend: ScoringBackend;
  /** The key of its circuit and latency record (`modelKey`). */
  readonly key: string;
  /** Its observed p95 (ms); undefined until it has answered often enough. */
  readonly p95: number | undefined;
}

/** Whether a model may be called now; if not, why, and whether the chain stops there. */
export type ModelCheck =
  | { readonly runnable: RunnableModel }
  | { readonly skipped: DegradationReason; readonly stop: boolean };

/**
 * Checks the model at `position`: it is skipped while its circuit is open, once the budget is
 * spent, or when its observed p95 no longer fits what is left (unless `rule` gives it a last chance).
 */
export function checkModel(input: PlanInput, position: number, rule: BudgetRule): ModelCheck {
  const { route, resilience, budget } = input;
  const chainModel = route.chain[position]!;
  const backend = input.backends.forModel(chainModel.model);
  const key = modelKey(chainModel, backend);
  if (!resilience.breakers.allows(key)) {
    return { skipped: DegradationReason.CIRCUIT_OPEN, stop: false };
  }
  if (budget.exhausted()) {
    return { skipped: DegradationReason.BUDGET_TOO_SMALL, stop: rule.whenSpent === 'stop' };
  }
  const p95 = resilience.latency.p95(key);
  const lastChance = rule.lastModelAlwaysTried && position === route.chain.length - 1;
  if (p95 !== undefined && !budget.fits(p95) && !lastChance) {
    return { skipped: DegradationReason.BUDGET_TOO_SMALL, stop: false };
  }
  return { runnable: { position, chainModel, backend, key, p95 } };
}

/**
 * The models that may answer for one entity, best first, each checked only when asked for (with
 * the budget left at that moment). Why each one before it could not is recorded on `degradation`.
 */
export function* runnableModels(
  input: PlanInput,
  entity: EntityFeatures,
  degradation: Degradation,
  rule: BudgetRule,
): Generator<RunnableModel & { readonly row: Float32Array }, void, undefined> {
  for (let position = 0; position < input.route.chain.length; position++) {
    const row = usableRow(input.route.chain[position]!, entity, degradation);
    if (!row) continue;
    const check = checkModel(input, position, rule);
    if ('runnable' in check) {
      yield { ...check.runnable, row };
      continue;
    }
    degradation.reasons.add(check.skipped);
    if (check.stop) return;
  }
}

/** Observed p95 of the model at `key`, if its circuit lets calls through. */
function p95IfAllowed(
  input: Omit<PlanInput, 'budget'>,
  chainModel: ChainModel,
): number | undefined {
  const key = modelKey(chainModel, input.backends.forModel(chainModel.model));
  return input.resilience.breakers.allows(key) ? input.resilience.latency.p95(key) : undefined;
}

/**
 * The time the rest of the chain needs after the model at `position`: the smallest observed p95
 * of a later model whose circuit lets calls through (undefined when none is known).
 */
export function laterNeedsMs(input: PlanInput, position: number): number | undefined {
  const known = input.route.chain
    .slice(position + 1)
    .map((m) => p95IfAllowed(input, m))
    .filter((p95) => p95 !== undefined);
  return known.length === 0 ? undefined : Math.min(...known);
}

/** Smallest observed p95 of any chain model: what the feature read must leave time for. */
export function cheapestModelMs(input: Omit<PlanInput, 'budget'>): number {
  let best = Infinity;
  for (const m of input.route.chain) {
    const p95 = input.resilience.latency.p95(modelKey(m, input.backends.forModel(m.model)));
    if (p95 !== undefined) best = Math.min(best, p95);
  }
  return Number.isFinite(best) ? best : 0;
}

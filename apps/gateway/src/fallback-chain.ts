import { DegradationReason, type FeatureResult, type FeatureValue } from '@scoregate/contracts';
import {
  CircuitBreakers,
  CircuitOpenError,
  HedgeFailedError,
  LatencyTracker,
  hedge,
  nowMs,
  type Budget,
  type HedgeAttempt,
} from '@scoregate/resilience';
import { Code, RpcError, type CallContext, type RpcLogger } from '@scoregate/rpc';
import { buildFeatureVector } from './feature-vector.js';
import { inferRows, type Inferred } from './inference.js';
import type { ChainModel, Route } from './route-resolver.js';
import type { ScoringBackend, ScoringBackends } from './scoring-backends.js';
import type { StageTimer } from './stage-timer.js';

/** What the gateway learns about models and backends across requests. */
export interface ChainResilience {
  /** One circuit per model alias and scoring backend. */
  readonly breakers: CircuitBreakers;
  /** Observed latency per model alias and scoring backend (successful single-entity calls). */
  readonly latency: LatencyTracker;
  /** Hedge a slow model to the next one after its observed p95. */
  readonly hedging: boolean;
}

export function createChainResilience(options: { hedging?: boolean } = {}): ChainResilience {
  return {
    breakers: new CircuitBreakers({
      // A call we cancelled ourselves (the hedge won, or the client went away) says nothing about
      // the model; a refused request is our bug, not the backend's.
      isFailure: (error) => {
        const code = RpcError.from(error).code;
        return code !== Code.CANCELLED && code !== Code.INVALID_ARGUMENT;
      },
    }),
    latency: new LatencyTracker({ windowMs: 10_000, slices: 10, minSamples: 20 }),
    hedging: options.hedging ?? true,
  };
}

export function modelKey(chainModel: ChainModel, backend: ScoringBackend): string {
  return `${chainModel.model}:${chainModel.alias}@${backend.name}`;
}

/** Sets collecting why and how an answer is degraded. */
export interface Degradation {
  readonly reasons: Set<DegradationReason>;
  readonly missing: Set<string>;
  readonly stale: Set<string>;
}

export function newDegradation(): Degradation {
  return { reasons: new Set(), missing: new Set(), stale: new Set() };
}

export interface ChainAnswer extends Inferred {
  readonly chainModel: ChainModel;
  /** Position of the model in the scorer's chain (0 = best). */
  readonly position: number;
}

export interface ChainInput {
  readonly route: Route;
  readonly backends: ScoringBackends;
  readonly resilience: ChainResilience;
  readonly budget: Budget;
  readonly context: CallContext;
  readonly requestId: string;
  readonly timer: StageTimer;
  readonly logger: RpcLogger;
}

function reasonFor(error: unknown): DegradationReason | undefined {
  if (error instanceof CircuitOpenError) return DegradationReason.CIRCUIT_OPEN;
  const code = RpcError.from(error).code;
  if (code === Code.CANCELLED) return undefined;
  return code === Code.DEADLINE_EXCEEDED
    ? DegradationReason.PRIMARY_TIMEOUT
    : DegradationReason.MODEL_ERROR;
}

/**
 * The time the rest of the path needs after the model at `position`: the smallest observed p95
 * of a later model whose circuit lets calls through (0 when none is known).
 */
function laterNeedsMs(input: ChainInput, position: number): number | undefined {
  let best: number | undefined;
  input.route.chain.slice(position + 1).forEach((m) => {
    const key = modelKey(m, input.backends.forModel(m.model));
    if (!input.resilience.breakers.allows(key)) return;
    const p95 = input.resilience.latency.p95(key);
    if (p95 !== undefined) best = best === undefined ? p95 : Math.min(best, p95);
  });
  return best;
}

/** Smallest observed p95 of any chain model: what features must leave time for. */
export function cheapestModelMs(input: Omit<ChainInput, 'timer'>): number {
  let best = Infinity;
  for (const m of input.route.chain) {
    const p95 = input.resilience.latency.p95(modelKey(m, input.backends.forModel(m.model)));
    if (p95 !== undefined) best = Math.min(best, p95);
  }
  return Number.isFinite(best) ? best : 0;
}

/**
 * Scores one entity down the chain, best model first. A model is skipped when a required feature
 * is missing or stale, its circuit is open, or its observed p95 no longer fits the budget left.
 * A model still running after its p95 is hedged to the next candidate (early enough for that one
 * to fit); the first answer wins and the others are cancelled. Undefined: no model answered.
 */
export async function scoreDownChain(
  input: ChainInput,
  stored: ReadonlyMap<string, FeatureResult>,
  requestFeatures: Readonly<Record<string, FeatureValue>>,
  degradation: Degradation,
): Promise<ChainAnswer | undefined> {
  const { route, backends, resilience, budget } = input;
  const { breakers, latency } = resilience;
  const positions: number[] = [];
  let cursor = 0;

  const next = (): HedgeAttempt<ChainAnswer> | undefined => {
    while (cursor < route.chain.length) {
      const position = cursor++;
      const chainModel = route.chain[position]!;
      const vector = buildFeatureVector(chainModel.contract, stored, requestFeatures);
      if (vector.missing.length > 0 || vector.stale.length > 0) {
        vector.missing.forEach((f) => degradation.missing.add(f));
        vector.stale.forEach((f) => degradation.stale.add(f));
        if (vector.missing.length > 0) degradation.reasons.add(DegradationReason.FEATURES_MISSING);
        if (vector.stale.length > 0) degradation.reasons.add(DegradationReason.FEATURES_STALE);
        continue;
      }
      const backend = backends.forModel(chainModel.model);
      const key = modelKey(chainModel, backend);
      if (!breakers.allows(key)) {
        degradation.reasons.add(DegradationReason.CIRCUIT_OPEN);
        continue;
      }
      if (budget.exhausted()) {
        degradation.reasons.add(DegradationReason.BUDGET_TOO_SMALL);
        return undefined;
      }
      const p95 = latency.p95(key);
      if (p95 !== undefined && !budget.fits(p95)) {
        degradation.reasons.add(DegradationReason.BUDGET_TOO_SMALL);
        continue;
      }
      const later = position + 1 < route.chain.length ? laterNeedsMs(input, position) : undefined;
      let hedgeAfterMs: number | undefined;
      if (resilience.hedging && later !== undefined) {
        // After this model's p95, or sooner if the next one would otherwise not fit any more.
        const latest = budget.hopMs(later);
        hedgeAfterMs = Math.max(0, p95 === undefined ? latest : Math.min(p95, latest));
      }
      positions.push(position);
      return {
        hedgeAfterMs,
        run: (signal) =>
          input.timer.run(
            'inference',
            async () => {
              const started = nowMs();
              try {
                const inferred = await breakers.run(key, () =>
                  inferRows(backend, chainModel, [vector.values], input.requestId, {
                    parent: input.context,
                    deadline: budget.hopDeadline(),
                    signal,
                  }),
                );
                latency.record(key, nowMs() - started);
                return { ...inferred, chainModel, position };
              } catch (error) {
                // A call cut short by the hedge took at least this long: a sample all the same,
                // so a model that keeps losing sees its p95 grow until it no longer fits.
                if (signal.aborted) latency.record(key, nowMs() - started);
                throw error;
              }
            },
            `${chainModel.model}@${chainModel.alias}`,
          ),
      };
    }
    return undefined;
  };

  try {
    const outcome = await hedge(next, input.context.signal);
    for (const error of outcome.errors.values()) {
      const reason = reasonFor(error);
      if (reason !== undefined) degradation.reasons.add(reason);
    }
    // The best candidate lost to a hedge: it was slower than usual.
    if (outcome.winner > 0 && outcome.hedged.length > 0 && !outcome.errors.has(0)) {
      degradation.reasons.add(DegradationReason.PRIMARY_TIMEOUT);
    }
    return outcome.value;
  } catch (error) {
    if (!(error instanceof HedgeFailedError)) throw error;
    for (const [attempt, cause] of error.errors) {
      const reason = reasonFor(cause);
      if (reason !== undefined) degradation.reasons.add(reason);
      const chainModel = route.chain[positions[attempt]!];
      input.logger.warn(
        { err: cause, model: chainModel?.model, alias: chainModel?.alias },
        'model failed; trying the next in the chain',
      );
    }
    return undefined;
  }
}

/** The per-item state of a batch going down the chain. */
export interface BatchItemState {
  readonly stored: ReadonlyMap<string, FeatureResult>;
  readonly requestFeatures: Readonly<Record<string, FeatureValue>>;
  readonly degradation: Degradation;
  answer?: {
    readonly chainModel: ChainModel;
    readonly position: number;
    readonly inferred: Inferred;
    readonly row: number;
  };
}

/**
 * Scores a batch down the chain: each model gets, in one ModelInfer call, every item still without
 * an answer whose features it has; items whose features it lacks (or whose call failed) go on to
 * the next model. No hedging: one call per chosen model.
 */
export async function scoreBatchDownChain(
  input: ChainInput,
  items: readonly BatchItemState[],
): Promise<void> {
  const { route, backends, resilience, budget } = input;
  for (let position = 0; position < route.chain.length; position++) {
    const pending = items.filter((item) => !item.answer);
    if (pending.length === 0) return;
    const chainModel = route.chain[position]!;
    const eligible: { item: BatchItemState; values: Float32Array }[] = [];
    for (const item of pending) {
      const vector = buildFeatureVector(chainModel.contract, item.stored, item.requestFeatures);
      const { degradation } = item;
      if (vector.missing.length > 0 || vector.stale.length > 0) {
        vector.missing.forEach((f) => degradation.missing.add(f));
        vector.stale.forEach((f) => degradation.stale.add(f));
        if (vector.missing.length > 0) degradation.reasons.add(DegradationReason.FEATURES_MISSING);
        if (vector.stale.length > 0) degradation.reasons.add(DegradationReason.FEATURES_STALE);
        continue;
      }
      eligible.push({ item, values: vector.values });
    }
    if (eligible.length === 0) continue;
    const backend = backends.forModel(chainModel.model);
    const key = modelKey(chainModel, backend);
    const skip = (reason: DegradationReason) =>
      eligible.forEach(({ item }) => item.degradation.reasons.add(reason));
    if (!resilience.breakers.allows(key)) {
      skip(DegradationReason.CIRCUIT_OPEN);
      continue;
    }
    const p95 = resilience.latency.p95(key);
    if (budget.exhausted() || (p95 !== undefined && !budget.fits(p95))) {
      skip(DegradationReason.BUDGET_TOO_SMALL);
      continue;
    }
    try {
      const inferred = await input.timer.run(
        'inference',
        () =>
          resilience.breakers.run(key, () =>
            inferRows(
              backend,
              chainModel,
              eligible.map((e) => e.values),
              input.requestId,
              { parent: input.context, deadline: budget.hopDeadline() },
            ),
          ),
        `${chainModel.model}@${chainModel.alias} x${eligible.length}`,
      );
      eligible.forEach(({ item }, row) => {
        item.answer = { chainModel, position, inferred, row };
      });
    } catch (error) {
      const reason = reasonFor(error);
      if (reason !== undefined) skip(reason);
      input.logger.warn(
        { err: error, model: chainModel.model, alias: chainModel.alias, items: eligible.length },
        'batch inference failed; its items try the next model in the chain',
      );
    }
  }
}

import { DegradationReason, type FeatureResult, type FeatureValue } from '@scoregate/contracts';
import {
  CircuitBreakers,
  CircuitOpenError,
  HedgeFailedError,
  HedgeLostError,
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
        if (error instanceof TooSlowError) return true;
        const code = RpcError.from(error).code;
        return code !== Code.CANCELLED && code !== Code.INVALID_ARGUMENT;
      },
    }),
    latency: new LatencyTracker({ windowMs: 5_000, slices: 10, minSamples: 20 }),
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

/** A model call cancelled because it was slower than the alternatives or the budget. */
export class TooSlowError extends Error {
  constructor(key: string, elapsedMs: number, cause: unknown) {
    super(`${key} gave no answer in ${elapsedMs.toFixed(1)} ms`, { cause });
    this.name = 'TooSlowError';
  }
}

function reasonFor(error: unknown): DegradationReason | undefined {
  if (error instanceof CircuitOpenError) return DegradationReason.CIRCUIT_OPEN;
  if (error instanceof TooSlowError) return DegradationReason.PRIMARY_TIMEOUT;
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
      // The last model is tried whatever its p95: the chain gives up at the deadline anyway, and
      // a model never tried again would never show that it got faster.
      const lastChance = position === route.chain.length - 1;
      if (p95 !== undefined && !budget.fits(p95) && !lastChance) {
        degradation.reasons.add(DegradationReason.BUDGET_TOO_SMALL);
        continue;
      }
      let hedgeAfterMs: number | undefined;
      if (resilience.hedging && position + 1 < route.chain.length) {
        // What the next candidate needs: its observed p95; unknown (it never answered yet), as
        // long as this one usually takes, or else half of what is left.
        const later = laterNeedsMs(input, position) ?? p95 ?? budget.hopMs() / 2;
        // After this model's p95, or sooner if the next one would otherwise not fit any more.
        const latest = budget.hopMs(later);
        // A model with no p95 yet (new, or back after a fault) gets half of what is left.
        hedgeAfterMs = Math.max(0, Math.min(p95 ?? budget.hopMs() / 2, latest));
      }
      const attempt = positions.length;
      positions.push(position);
      return {
        hedgeAfterMs,
        run: (signal) =>
          input.timer.run(
            'inference',
            async () => {
              const started = nowMs();
              const inferred = await breakers.run(key, async () => {
                try {
                  return await inferRows(backend, chainModel, [vector.values], input.requestId, {
                    parent: input.context,
                    deadline: budget.hopDeadline(),
                    signal,
                  });
                } catch (error) {
                  // Cut short by us because a model started after it answered first, or the
                  // budget ran out: it was too slow, which counts against its circuit, so a
                  // model that keeps hanging is soon skipped as CIRCUIT_OPEN (and probed again
                  // when half-open). A hedge that lost to an earlier attempt was not slow.
                  const reason: unknown = signal.reason;
                  const lostToEarlier = reason instanceof HedgeLostError && reason.winner < attempt;
                  if (signal.aborted && !input.context.signal.aborted && !lostToEarlier)
                    throw new TooSlowError(key, nowMs() - started, error);
                  throw error;
                }
              });
              latency.record(key, nowMs() - started);
              return { ...inferred, chainModel, position };
            },
            `${chainModel.model}@${chainModel.alias}`,
          ),
      };
    }
    return undefined;
  };

  // The chain gives up at the hop deadline on its own clock, whatever the downstream deadlines
  // do, so that the default answer still fits the budget.
  const giveUp = new AbortController();
  const timer = setTimeout(
    () => giveUp.abort(new RpcError(Code.DEADLINE_EXCEEDED, 'the budget for models is spent')),
    Math.max(0, budget.hopDeadline() - nowMs()),
  );
  try {
    const outcome = await hedge(next, AbortSignal.any([input.context.signal, giveUp.signal]));
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
    if (giveUp.signal.aborted && !input.context.signal.aborted) {
      degradation.reasons.add(DegradationReason.PRIMARY_TIMEOUT);
      return undefined;
    }
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
  } finally {
    clearTimeout(timer);
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

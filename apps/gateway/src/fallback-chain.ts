import { DegradationReason } from '@scoregate/contracts';
import {
  HedgeFailedError,
  HedgeLostError,
  hedge,
  nowMs,
  type HedgeAttempt,
  type HedgeOutcome,
} from '@scoregate/resilience';
import { Code, RpcError, type CallContext, type RpcLogger } from '@scoregate/rpc';
import {
  laterNeedsMs,
  runnableModels,
  SCORE_BUDGET_RULE,
  type EntityFeatures,
  type PlanInput,
  type RunnableModel,
} from './chain-plan.js';
import { TooSlowError } from './chain-resilience.js';
import { reasonOfFailure, type Degradation } from './degradation.js';
import { inferRows, type Inferred } from './inference.js';
import type { ChainModel } from './route-resolver.js';
import type { StageTimer } from './stage-timer.js';

export interface ChainInput extends PlanInput {
  readonly context: CallContext;
  readonly requestId: string;
  readonly timer: StageTimer;
  readonly logger: RpcLogger;
}

/** The answer of one chain model for one entity: its outputs are at `row` of `inferred`. */
export interface ModelAnswer {
  readonly chainModel: ChainModel;
  /** Position of the model in the scorer's chain (0 = best). */
  readonly position: number;
  readonly inferred: Inferred;
  readonly row: number;
}

type Candidate = RunnableModel & { readonly row: Float32Array };

/**
 * Scores one entity down the chain, best model first. Which models may run is planned in
 * `chain-plan.ts` (features, circuit, budget, with Score's last chance). A model still running
 * after its p95 is hedged to the next candidate (early enough for that one to fit); the first
 * answer wins and the others are cancelled. Undefined: no model answered.
 */
export async function scoreDownChain(
  input: ChainInput,
  entity: EntityFeatures,
  degradation: Degradation,
): Promise<ModelAnswer | undefined> {
  const candidates = runnableModels(input, entity, degradation, SCORE_BUDGET_RULE);
  const started: Candidate[] = [];
  const next = (attempt: number): HedgeAttempt<ModelAnswer> | undefined => {
    const candidate = candidates.next();
    if (candidate.done) return undefined;
    started.push(candidate.value);
    return {
      hedgeAfterMs: hedgeAfterMs(input, candidate.value),
      run: (signal) => runCandidate(input, candidate.value, attempt, signal),
    };
  };
  // The chain gives up at the hop deadline on its own clock, whatever the downstream deadlines
  // do, so that the default answer still fits the budget.
  const giveUp = new AbortController();
  const timer = setTimeout(
    () => giveUp.abort(new RpcError(Code.DEADLINE_EXCEEDED, 'the budget for models is spent')),
    Math.max(0, input.budget.hopDeadline() - nowMs()),
  );
  try {
    const outcome = await hedge(next, AbortSignal.any([input.context.signal, giveUp.signal]));
    recordHedgeOutcome(outcome, degradation);
    return outcome.value;
  } catch (error) {
    if (giveUp.signal.aborted && !input.context.signal.aborted) {
      degradation.reasons.add(DegradationReason.PRIMARY_TIMEOUT);
      return undefined;
    }
    if (!(error instanceof HedgeFailedError)) throw error;
    recordEveryFailure(input, error, started, degradation);
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * When to start the next candidate if this one has not answered: after its p95, or sooner if the
 * next one would otherwise not fit any more. Undefined (only after a failure) without hedging or
 * for the chain's last model.
 */
function hedgeAfterMs(input: ChainInput, candidate: Candidate): number | undefined {
  const { budget, route } = input;
  if (!input.resilience.hedging || candidate.position + 1 >= route.chain.length) return undefined;
  // What the next candidate needs: its observed p95; unknown (it never answered yet), as long as
  // this one usually takes, or else half of what is left.
  const later = laterNeedsMs(input, candidate.position) ?? candidate.p95 ?? budget.hopMs() / 2;
  const latest = budget.hopMs(later);
  // A model with no p95 yet (new, or back after a fault) gets half of what is left.
  return Math.max(0, Math.min(candidate.p95 ?? budget.hopMs() / 2, latest));
}

/** Calls one candidate through its circuit, timed as an `inference` stage; records its latency. */
function runCandidate(
  input: ChainInput,
  candidate: Candidate,
  attempt: number,
  signal: AbortSignal,
): Promise<ModelAnswer> {
  const { chainModel, position, key } = candidate;
  return input.timer.run(
    'inference',
    async () => {
      const started = nowMs();
      const inferred = await input.resilience.breakers.run(key, () =>
        inferOrTooSlow(input, candidate, attempt, signal, started),
      );
      input.resilience.latency.record(key, nowMs() - started);
      return { chainModel, position, inferred, row: 0 };
    },
    `${chainModel.model}@${chainModel.alias}`,
  );
}

/**
 * One ModelInfer for the candidate's row. Cut short by us because a model started after it
 * answered first, or the budget ran out, it fails as TooSlowError: that counts against its
 * circuit, so a model that keeps hanging is soon skipped as CIRCUIT_OPEN (and probed again when
 * half-open). A hedge that lost to an earlier attempt was not slow.
 */
async function inferOrTooSlow(
  input: ChainInput,
  candidate: Candidate,
  attempt: number,
  signal: AbortSignal,
  started: number,
): Promise<Inferred> {
  try {
    return await inferRows(
      candidate.backend,
      candidate.chainModel,
      [candidate.row],
      input.requestId,
      {
        parent: input.context,
        deadline: input.budget.hopDeadline(),
        signal,
      },
    );
  } catch (error) {
    const reason: unknown = signal.reason;
    const lostToEarlier = reason instanceof HedgeLostError && reason.winner < attempt;
    if (signal.aborted && !input.context.signal.aborted && !lostToEarlier)
      throw new TooSlowError(candidate.key, nowMs() - started, error);
    throw error;
  }
}

/** Why the attempts before the winner failed; a best candidate that lost a hedge was slow. */
function recordHedgeOutcome(outcome: HedgeOutcome<ModelAnswer>, degradation: Degradation): void {
  for (const error of outcome.errors.values()) {
    const reason = reasonOfFailure(error);
    if (reason !== undefined) degradation.reasons.add(reason);
  }
  if (outcome.winner > 0 && outcome.hedged.length > 0 && !outcome.errors.has(0)) {
    degradation.reasons.add(DegradationReason.PRIMARY_TIMEOUT);
  }
}

/** Every candidate failed: each failure's reason is recorded and logged. */
function recordEveryFailure(
  input: ChainInput,
  error: HedgeFailedError,
  started: readonly Candidate[],
  degradation: Degradation,
): void {
  for (const [attempt, cause] of error.errors) {
    const reason = reasonOfFailure(cause);
    if (reason !== undefined) degradation.reasons.add(reason);
    const chainModel = started[attempt]?.chainModel;
    input.logger.warn(
      { err: cause, model: chainModel?.model, alias: chainModel?.alias },
      'model failed; trying the next in the chain',
    );
  }
}

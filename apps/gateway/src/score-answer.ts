import type { MessageInitShape } from '@bufbuild/protobuf';
import {
  DegradationReason,
  type ScoreResponseSchema,
  type TimingsSchema,
} from '@scoregate/contracts';
import { nowMs, type Budget } from '@scoregate/resilience';
import { isDegraded, type Degradation } from './degradation.js';
import type { ModelAnswer } from './fallback-chain.js';
import { outputsOfRow, scoreOfRow } from './inference.js';
import type { Route } from './route-resolver.js';
import { durationOf, type StageTimer } from './stage-timer.js';

/** What a caller sees of one entity's answer (a Score response, or one ScoreBatch result). */
export type AnswerFields = Pick<
  MessageInitShape<typeof ScoreResponseSchema>,
  'score' | 'outputs' | 'servedBy' | 'degraded' | 'reasons' | 'missingFeatures' | 'staleFeatures'
>;

/**
 * The answer of the model that answered, or else the scorer's default answer (DEFAULT_ANSWER),
 * with why it is degraded. Reasons are listed only when the answer is degraded.
 */
export function answerFields(
  route: Route,
  answer: ModelAnswer | undefined,
  degradation: Degradation,
): AnswerFields {
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
}

export type TimingsInit = MessageInitShape<typeof TimingsSchema>;

/** The budget, the time taken so far, what was left of the budget, and each stage's time. */
export function timingsOf(budget: Budget, timer: StageTimer): TimingsInit {
  const totalMs = nowMs() - budget.startedAt;
  return {
    budget: durationOf(budget.totalMs),
    total: durationOf(totalMs),
    margin: durationOf(budget.totalMs - totalMs),
    stages: timer.stages,
  };
}

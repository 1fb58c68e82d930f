import type { ScoreService } from '@scoregate/contracts';
import type { ServiceHandlers } from '@scoregate/rpc';
import { Admission } from './admission.js';
import { scoreBatch } from './score-batch.js';
import { resolveScoreDependencies, type ScoreDependencies } from './score-dependencies.js';
import { score } from './score-handler.js';

export function createScoreHandlers(
  deps: ScoreDependencies & { readonly admission?: Admission },
): ServiceHandlers<typeof ScoreService> {
  const resolved = resolveScoreDependencies(deps);
  const admission =
    deps.admission ??
    new Admission({ minimumMs: deps.responseReserveMs, defaultBudgetMs: deps.defaultBudgetMs });
  return {
    score: (request, context) =>
      admission.run(context, request, () => score(resolved, request, context)),
    scoreBatch: (request, context) =>
      admission.run(context, request, () => scoreBatch(resolved, request, context)),
  };
}

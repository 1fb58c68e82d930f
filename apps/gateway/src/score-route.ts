import type { EntityKey } from '@scoregate/contracts';
import { Budget, nowMs } from '@scoregate/resilience';
import { RpcError, type CallContext } from '@scoregate/rpc';
import { effectiveBudgetMs } from './budget.js';
import type { Route } from './route-resolver.js';
import type { ScoreDependencies } from './score-dependencies.js';
import type { StageTimer } from './stage-timer.js';

/** Resolves the route and the request's effective budget (client deadline, request, scorer). */
export async function resolveRoute(
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

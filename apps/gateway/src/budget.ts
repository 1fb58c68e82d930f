/**
 * The effective budget of a request: the smallest of the client's remaining deadline, the
 * request's own budget and the scorer's budget; the gateway default when none is set.
 */
export function effectiveBudgetMs(parts: {
  clientRemainingMs: number;
  requestBudgetMs: number | undefined;
  scorerBudgetMs: number | undefined;
  defaultBudgetMs: number;
}): number {
  const candidates = [
    parts.clientRemainingMs,
    parts.requestBudgetMs ?? Infinity,
    parts.scorerBudgetMs ?? Infinity,
  ];
  const budget = Math.min(...candidates);
  return Number.isFinite(budget) ? budget : parts.defaultBudgetMs;
}

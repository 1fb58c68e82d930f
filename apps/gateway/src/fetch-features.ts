import { DegradationReason, type EntityKey, type FeatureResult } from '@scoregate/contracts';
import type { Budget } from '@scoregate/resilience';
import type { CallContext } from '@scoregate/rpc';
import { cheapestModelMs } from './chain-plan.js';
import type { Degradation } from './degradation.js';
import type { Route } from './route-resolver.js';
import type { ResolvedScoreDependencies } from './score-dependencies.js';

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

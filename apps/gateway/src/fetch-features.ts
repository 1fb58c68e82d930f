import { DegradationReason, type EntityKey, type FeatureResult } from '@scoregate/contracts';
import type { Budget } from '@scoregate/resilience';
import type { CallContext } from '@scoregate/rpc';
import { cheapestModelMs } from './chain-plan.js';
import type { Degradation } from './degradation.js';
import type { Route } from './route-resolver.js';
import type { ResolvedScoreDependencies } from './score-dependencies.js';
import type { StageTimer } from './stage-timer.js';

/** The detail of a `features` stage skipped because feature-service's circuit is open. */
export const CIRCUIT_OPEN_DETAIL = 'circuit open';

/** One read of the features a call's chain needs, timed as its `features` stage. */
export interface FeatureRead {
  readonly route: Route;
  readonly entities: readonly EntityKey[];
  readonly budget: Budget;
  readonly context: CallContext;
  readonly timer: StageTimer;
  /** The stage's detail when feature-service is called (e.g. the batch size). */
  readonly detail?: string;
}

/**
 * Reads the features every chain model needs for `entities`, in one call, leaving the time the
 * cheapest model needs after it. Failure, or feature-service's circuit open (the `features`
 * stage then says `circuit open`, and nothing is sent): FEATURES_UNAVAILABLE on every
 * degradation, and empty maps — models whose inputs come with the request can still answer.
 */
export async function fetchFeatures(
  deps: ResolvedScoreDependencies,
  read: FeatureRead,
  degradations: readonly Degradation[],
): Promise<Map<string, FeatureResult>[]> {
  const { route, entities, budget, context, timer } = read;
  const refs = [...new Set(route.chain.flatMap((m) => m.contract.map((f) => f.ref)))];
  const stored = entities.map(() => new Map<string, FeatureResult>());
  if (refs.length === 0) return timer.run('features', () => Promise.resolve(stored), read.detail);
  const request = { entities: [...entities], featureRefs: refs };
  const restNeedsMs = cheapestModelMs({
    route,
    backends: deps.scoring,
    resilience: deps.resilience,
  });
  // Features get at least half of what is left, however slow the models have become.
  const deadline = budget.hopDeadline(Math.min(restNeedsMs, budget.hopMs() / 2));
  const circuit = deps.featureCircuit;
  const admission = circuit.admit();
  // Nobody waits on the probe: it may take all the time a call could give (and no more), so that
  // a service that answers in time is not kept out by the share of one busy moment.
  if (admission === 'probe')
    circuit.probe(() => deps.features.getFeatures(request, { deadline: budget.hopDeadline() }));
  if (admission !== 'call') {
    degradations.forEach((d) => d.reasons.add(DegradationReason.FEATURES_UNAVAILABLE));
    return timer.run('features', () => Promise.resolve(stored), CIRCUIT_OPEN_DETAIL);
  }
  try {
    const reply = await timer.run(
      'features',
      () => circuit.run(() => deps.features.getFeatures(request, { parent: context, deadline })),
      read.detail,
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

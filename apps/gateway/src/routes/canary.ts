import type { Route } from '../route-resolver.js';
import type { RoutedTarget } from './route-table.js';
import { inShare, type EntityRef } from './sticky.js';

/** A route that may carry a canary (a TableRoute does; a plain Route never has one). */
export type CanaryRoute = Route & { readonly canary?: RoutedTarget | undefined };

export interface CanaryChoice<R extends CanaryRoute> {
  /** The route to serve this entity with: the canary version first in the chain when chosen. */
  readonly route: R;
  /** True when the entity is on the canary side. */
  readonly canary: boolean;
}

/**
 * Decides canary or primary for one entity. The scorer's `canary { alias, share }` sends `share`
 * of entities to the canary alias of the chain's first model, sticky by entity: the same entity
 * type and key always land on the same side (until the share changes). On the canary side the
 * canary version goes first in the chain, ahead of the primary version it is tried against, so a
 * failing canary falls back to the primary (then to the rest of the chain) as any step would.
 */
export function chooseCanary<R extends CanaryRoute>(route: R, entity: EntityRef): CanaryChoice<R> {
  const canary = route.canary;
  if (!canary || route.chain.length === 0) return { route, canary: false };
  if (!inShare(entity, canary.share, `canary:${route.scorer.name}`))
    return { route, canary: false };
  const first = route.chain[0]!;
  const step = route.scorer.chain[0];
  // The scorer's first step did not resolve: no primary to compare the canary with.
  if (first.model !== step?.model || first.alias !== step.alias) return { route, canary: false };
  return { route: { ...route, chain: [canary.model, ...route.chain] }, canary: true };
}

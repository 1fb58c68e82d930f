import type { TableRoute } from './route-table.js';
import { inShare, type EntityRef } from './sticky.js';

export interface CanaryChoice {
  /** The route to serve this entity with: the canary version first in the chain when chosen. */
  readonly route: TableRoute;
  /** True when the entity is on the canary side. */
  readonly canary: boolean;
}

/**
 * Decides canary or primary for one entity. The scorer's `canary { alias, share }` sends `share`
 * of entities to the canary alias of the chain's first model, sticky by entity: the same entity
 * type and key always land on the same side (until the share changes). On the canary side the
 * first chain step is replaced by the canary version; the rest of the chain (the fallbacks) stays.
 */
export function chooseCanary(route: TableRoute, entity: EntityRef): CanaryChoice {
  const canary = route.canary;
  if (!canary || route.chain.length === 0) return { route, canary: false };
  if (!inShare(entity, canary.share, `canary:${route.scorer.name}`))
    return { route, canary: false };
  const first = route.chain[0]!;
  // A chain whose first step is not the scorer's first model (it did not resolve) keeps it.
  if (first.model !== canary.model.model) return { route, canary: false };
  return { route: { ...route, chain: [canary.model, ...route.chain.slice(1)] }, canary: true };
}

import { createHash } from 'node:crypto';

/** An entity as scorers key it. */
export interface EntityRef {
  readonly entityType: string;
  readonly key: string;
}

/**
 * A stable point in [0, 1) for an entity: the same entity type and key (and salt) always give
 * the same point, in every gateway process and across restarts; different entities spread
 * uniformly. `salt` keeps independent decisions (canary, shadow) from picking the same entities.
 */
export function entityPoint(entity: EntityRef, salt = ''): number {
  const digest = createHash('sha256')
    .update(salt)
    .update('\0')
    .update(entity.entityType)
    .update('\0')
    .update(entity.key)
    .digest();
  // 48 bits: exactly representable in a double, far finer than any share anyone configures.
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

/** True when the entity falls within `share` (0..1) of all entities, for this salt. */
export function inShare(entity: EntityRef, share: number, salt: string): boolean {
  if (!(share > 0)) return false;
  if (share >= 1) return true;
  return entityPoint(entity, salt) < share;
}

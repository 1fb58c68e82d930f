import type { ModelStore } from './model-store.js';
import { versionKey, type KnownVersion, type RegistryState } from './registry-state.js';

/**
 * The versions that must be loaded, by `model@version`: every version an alias of the registry
 * points at, each model's highest version, and what an alias of the store serves now (kept
 * until the alias's new target is loaded and the alias has moved).
 */
export function neededVersions(state: RegistryState, store: ModelStore): Set<string> {
  const needed = new Set<string>();
  for (const [model, aliases] of state.aliases)
    for (const version of aliases.values()) needed.add(versionKey(model, version));
  for (const v of highestVersions(state)) needed.add(versionKey(v.model, v.version));
  for (const served of store.list()) {
    if (Object.values(store.aliases(served.name)).includes(served.version))
      needed.add(versionKey(served.name, served.version));
  }
  return needed;
}

function highestVersions(state: RegistryState): Iterable<KnownVersion> {
  const highest = new Map<string, KnownVersion>();
  for (const v of state.versions.values()) {
    const best = highest.get(v.model);
    if (!best || BigInt(v.version) > BigInt(best.version)) highest.set(v.model, v);
  }
  return highest.values();
}

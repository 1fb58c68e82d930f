import type { RegistryChange } from '@scoregate/registry-watch';
import type { CachedState } from './artifact-cache.js';

/** A model version as the registry declares it: what a download must match. */
export interface KnownVersion {
  readonly model: string;
  readonly version: string;
  readonly sha256: string;
  readonly sizeBytes: bigint;
  /** Its inputs that accept NaN and infinities (the spec's input, when `accepts_non_finite`). */
  readonly nonFiniteInputs: readonly string[];
}

/** What the follower knows of the registry: its versions and where its aliases point. */
export interface RegistryState {
  /** `model@version` → version. */
  readonly versions: Map<string, KnownVersion>;
  /** model → alias → version. */
  readonly aliases: Map<string, Map<string, string>>;
}

export const versionKey = (model: string, version: string) => `${model}@${version}`;

/** The state a snapshot describes: its items applied, in order, to nothing. */
export function stateOfSnapshot(items: readonly RegistryChange[]): RegistryState {
  const state: RegistryState = { versions: new Map(), aliases: new Map() };
  for (const item of items) applyRegistryChange(state, item);
  return state;
}

/** `state` with one live change applied; `state` itself is left as it is. */
export function withRegistryChange(state: RegistryState, change: RegistryChange): RegistryState {
  const next: RegistryState = {
    versions: new Map(state.versions),
    aliases: new Map([...state.aliases].map(([m, a]) => [m, new Map(a)])),
  };
  applyRegistryChange(next, change);
  return next;
}

/** Applies a change to `state` in place; changes to scorers do not concern model serving. */
function applyRegistryChange(state: RegistryState, change: RegistryChange): void {
  switch (change.case) {
    case 'versionRegistered': {
      const { model, version, sha256, sizeBytes, spec } = change.value;
      const nonFiniteInputs = spec?.input?.acceptsNonFinite ? [spec.input.name] : [];
      state.versions.set(versionKey(model, version), {
        model,
        version,
        sha256,
        sizeBytes,
        nonFiniteInputs,
      });
      break;
    }
    case 'aliasMoved': {
      const m = change.value;
      if (!state.aliases.has(m.model)) state.aliases.set(m.model, new Map());
      state.aliases.get(m.model)?.set(m.alias, m.toVersion);
      break;
    }
    case 'aliasDeleted':
      state.aliases.get(change.value.model)?.delete(change.value.alias);
      break;
    default:
      break;
  }
}

/** The state as the artifact cache stores it (JSON: sizes as strings, maps as records). */
export function toCachedState(state: RegistryState): CachedState {
  return {
    versions: [...state.versions.values()].map((v) => ({ ...v, sizeBytes: String(v.sizeBytes) })),
    aliases: Object.fromEntries(
      [...state.aliases].map(([model, a]) => [model, Object.fromEntries(a)]),
    ),
  };
}

export function fromCachedState(cached: CachedState): RegistryState {
  return {
    versions: new Map(
      cached.versions.map((v) => [
        versionKey(v.model, v.version),
        { ...v, sizeBytes: BigInt(v.sizeBytes), nonFiniteInputs: v.nonFiniteInputs ?? [] },
      ]),
    ),
    aliases: new Map(
      Object.entries(cached.aliases).map(([m, a]) => [m, new Map(Object.entries(a))]),
    ),
  };
}

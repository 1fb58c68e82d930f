import type { ModelVersion, Scorer } from '@scoregate/contracts';
import type { RegistryChange } from '@scoregate/registry-watch';

/** What the route table knows of the registry: the versions, aliases and scorers routes use. */
export interface RouteState {
  /** `model@version` → version. */
  readonly versions: Map<string, ModelVersion>;
  /** model → alias → version. */
  readonly aliases: Map<string, Map<string, string>>;
  readonly scorers: Map<string, Scorer>;
}

export const versionKey = (model: string, version: string) => `${model}@${version}`;

export const emptyRouteState = (): RouteState => ({
  versions: new Map(),
  aliases: new Map(),
  scorers: new Map(),
});

/** A copy a change can be applied to while the routes built on the original keep serving. */
export function copyRouteState(state: RouteState): RouteState {
  return {
    versions: new Map(state.versions),
    aliases: new Map([...state.aliases].map(([m, a]) => [m, new Map(a)])),
    scorers: new Map(state.scorers),
  };
}

/** Records that `alias` of `model` points at `version`. */
export function setAlias(state: RouteState, model: string, alias: string, version: string): void {
  if (!state.aliases.has(model)) state.aliases.set(model, new Map());
  state.aliases.get(model)!.set(alias, version);
}

/** Applies one registry change (or snapshot item) to `state`, in place. */
export function applyRouteChange(state: RouteState, change: RegistryChange): void {
  switch (change.case) {
    case 'versionRegistered': {
      const v = change.value;
      state.versions.set(versionKey(v.model, v.version), v);
      break;
    }
    case 'aliasMoved':
      setAlias(state, change.value.model, change.value.alias, change.value.toVersion);
      break;
    case 'aliasDeleted':
      state.aliases.get(change.value.model)?.delete(change.value.alias);
      break;
    case 'scorerPut':
      state.scorers.set(change.value.name, change.value);
      break;
    case 'scorerDeleted':
      state.scorers.delete(change.value);
      break;
    default:
      break;
  }
}

import type { RpcLogger } from '@scoregate/rpc';
import { getMeter } from '@scoregate/telemetry';
import type { ModelStore } from './model-store.js';
import type { RegistryState } from './registry-state.js';

/**
 * Brings the store's aliases in line with the registry's: an alias moves to its new target
 * once that version is loaded (until then it keeps serving the old one), and an alias the
 * registry no longer has is dropped. Each move is one map write in the store, counted
 * (`scoregate.scoring.model.alias_swaps`) and logged.
 */
export function createAliasSync(
  store: ModelStore,
  logger: RpcLogger,
): (state: RegistryState) => void {
  const aliasSwaps = getMeter('scoregate.scoring-service').createCounter(
    'scoregate.scoring.model.alias_swaps',
    { description: 'Alias moves applied (the new version loaded and serving)' },
  );
  return (state) => {
    for (const [model, aliases] of state.aliases) {
      for (const [alias, version] of aliases) {
        const before = store.aliases(model)[alias];
        if (before === version) continue;
        if (store.setAlias(model, alias, version)) {
          aliasSwaps.add(1, { model, alias });
          logger.info(
            { model, alias, from: before ?? null, to: version },
            `${model} ${alias} now serves version ${version}${before ? ` (was ${before})` : ''}`,
          );
        }
      }
    }
    for (const served of store.list()) {
      for (const alias of Object.keys(store.aliases(served.name))) {
        if (!state.aliases.get(served.name)?.has(alias)) store.deleteAlias(served.name, alias);
      }
    }
  };
}

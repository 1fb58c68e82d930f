import { durationMs } from '@bufbuild/protobuf/wkt';
import type { ModelVersion, Scorer } from '@scoregate/contracts';
import type { RpcLogger } from '@scoregate/rpc';
import type { ChainModel } from '../route-resolver.js';
import type { TableRoute } from './route-table.js';
import { versionKey, type RouteState } from './route-state.js';

function toChainModel(model: string, alias: string, version: ModelVersion): ChainModel {
  if (!version.spec?.input)
    throw new Error(`${versionKey(model, version.version)} has no input spec`);
  return {
    model,
    alias,
    version: version.version,
    inputName: version.spec.input.name,
    acceptsNonFinite: version.spec.input.acceptsNonFinite,
    contract: version.spec.contract?.inputs ?? [],
    outputs: version.spec.outputs,
  };
}

/** A step's alias resolved to its version; undefined (logged, skipped) when it cannot be. */
function resolveStep(
  state: RouteState,
  logger: RpcLogger,
  scorer: string,
  model: string,
  alias: string,
): ChainModel | undefined {
  const version = state.aliases.get(model)?.get(alias);
  const found = version === undefined ? undefined : state.versions.get(versionKey(model, version));
  try {
    if (!found) throw new Error(version ? `version ${version} unknown` : 'alias unknown');
    return toChainModel(model, alias, found);
  } catch (error) {
    logger.warn(
      { err: error, scorer, model, alias },
      'scorer step cannot be resolved from the registry state; skipped',
    );
    return undefined;
  }
}

/** A scorer's route: its chain, canary (a version of the chain's first model) and shadow. */
export function buildRoute(state: RouteState, scorer: Scorer, logger: RpcLogger): TableRoute {
  const step = (model: string, alias: string) =>
    resolveStep(state, logger, scorer.name, model, alias);
  const chain = scorer.chain
    .map(({ model, alias }) => step(model, alias))
    .filter((m): m is ChainModel => m !== undefined);
  const first = scorer.chain[0];
  const canary =
    scorer.canary?.alias && scorer.canary.share > 0 && first
      ? step(first.model, scorer.canary.alias)
      : undefined;
  const shadow =
    scorer.shadow?.model && scorer.shadow.alias && scorer.shadow.share > 0
      ? step(scorer.shadow.model, scorer.shadow.alias)
      : undefined;
  return {
    scorer,
    chain,
    budgetMs: scorer.budget ? durationMs(scorer.budget) : undefined,
    canary: canary && { model: canary, share: Math.min(1, scorer.canary!.share) },
    shadow: shadow && { model: shadow, share: Math.min(1, scorer.shadow!.share) },
  };
}

/** Every scorer's route: a handful of scorers, so rebuilding all on each change is cheap. */
export function buildRoutes(state: RouteState, logger: RpcLogger): Map<string, TableRoute> {
  const routes = new Map<string, TableRoute>();
  for (const scorer of state.scorers.values())
    routes.set(scorer.name, buildRoute(state, scorer, logger));
  return routes;
}

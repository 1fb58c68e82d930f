import type { RegistryService, Scorer } from '@scoregate/contracts';
import {
  Code,
  RpcError,
  type CallContext,
  type CallOptions,
  type RpcClient,
  type RpcLogger,
} from '@scoregate/rpc';
import { buildRoute } from './route-builder.js';
import type { TableRoute } from './route-table.js';
import { emptyRouteState, setAlias, versionKey, type RouteState } from './route-state.js';

type Registry = RpcClient<typeof RegistryService>;

/**
 * A scorer's route asked from the registry directly (for use before the route table has its
 * first snapshot): the scorer, then the version each of its steps' aliases points at, resolved
 * as the table would. `parent` and `deadline` bound the calls; without a deadline, 1 s each.
 */
export async function fetchRoute(
  registry: Registry,
  logger: RpcLogger,
  name: string,
  parent: CallContext | undefined,
  deadline: number | undefined,
): Promise<TableRoute> {
  const callOptions: CallOptions = {
    ...(parent ? { parent } : {}),
    ...(deadline !== undefined && Number.isFinite(deadline) ? { deadline } : { timeoutMs: 1_000 }),
  };
  const scorer = await fetchScorer(registry, name, callOptions);
  const state = emptyRouteState();
  state.scorers.set(name, scorer);
  await Promise.all(
    stepsOf(scorer).map(({ model, alias }) =>
      fetchAliasTarget(registry, state, model, alias, callOptions),
    ),
  );
  return buildRoute(state, scorer, logger);
}

async function fetchScorer(
  registry: Registry,
  name: string,
  options: CallOptions,
): Promise<Scorer> {
  let scorer: Scorer | undefined;
  try {
    scorer = (await registry.getScorer({ name }, options)).scorer;
  } catch (error) {
    const rpcError = RpcError.from(error);
    if (rpcError.code === Code.NOT_FOUND) throw RpcError.notFound(`scorer "${name}" not found`);
    throw new RpcError(
      Code.UNAVAILABLE,
      `scorer "${name}" cannot be resolved: registry unavailable (${rpcError.message})`,
      { cause: error },
    );
  }
  if (!scorer) throw new RpcError(Code.INTERNAL, `registry returned no scorer for "${name}"`);
  return scorer;
}

/** Every model and alias a route of the scorer uses: chain, canary, shadow. */
function stepsOf(scorer: Scorer): { model: string; alias: string }[] {
  return [
    ...scorer.chain,
    ...(scorer.canary?.alias && scorer.chain[0]
      ? [{ model: scorer.chain[0].model, alias: scorer.canary.alias }]
      : []),
    ...(scorer.shadow?.model ? [{ model: scorer.shadow.model, alias: scorer.shadow.alias }] : []),
  ];
}

/** Records in `state` the version `alias` points at; a step that cannot be fetched stays out. */
async function fetchAliasTarget(
  registry: Registry,
  state: RouteState,
  model: string,
  alias: string,
  options: CallOptions,
): Promise<void> {
  try {
    const { version } = await registry.getModelVersion(
      { model, selector: { case: 'alias', value: alias } },
      options,
    );
    if (!version) return;
    state.versions.set(versionKey(model, version.version), version);
    setAlias(state, model, alias, version.version);
  } catch {
    // buildRoute logs the step as skipped.
  }
}

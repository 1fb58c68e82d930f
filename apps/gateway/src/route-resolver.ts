import { durationMs } from '@bufbuild/protobuf/wkt';
import type { FeatureInput, RegistryService, Scorer, TensorSpec } from '@scoregate/contracts';
import { Code, RpcError, type CallContext, type RpcClient, type RpcLogger } from '@scoregate/rpc';

/** One model of a scorer's chain, resolved to a concrete version with its contract. */
export interface ChainModel {
  readonly model: string;
  readonly alias: string;
  readonly version: string;
  /** Name of the model's single input tensor. */
  readonly inputName: string;
  /** Features in model input column order. */
  readonly contract: readonly FeatureInput[];
  readonly outputs: readonly TensorSpec[];
}

/** A scorer with its chain resolved, best model first. */
export interface Route {
  readonly scorer: Scorer;
  readonly chain: readonly ChainModel[];
  readonly budgetMs: number | undefined;
}

export interface RouteResolver {
  resolve(scorer: string, parent: CallContext, deadline: number): Promise<Route>;
}

/**
 * Resolves scorers through the registry and keeps each route for `cacheMs`. When the registry
 * cannot be reached, the last route known for a scorer keeps serving, however old.
 */
export function createRouteResolver(options: {
  registry: RpcClient<typeof RegistryService>;
  cacheMs: number;
  logger: RpcLogger;
}): RouteResolver {
  const { registry, logger } = options;
  const cache = new Map<string, { route: Route; fetchedAt: number }>();

  /** `complete`: every chain step resolved (only a complete route is cached). */
  async function fetchRoute(
    name: string,
    parent: CallContext,
    deadline: number,
  ): Promise<Route & { complete: boolean }> {
    const { scorer } = await registry.getScorer({ name }, { parent, deadline });
    if (!scorer) throw new RpcError(Code.INTERNAL, `registry returned no scorer for "${name}"`);
    const chain: ChainModel[] = [];
    let complete = true;
    for (const step of scorer.chain) {
      try {
        const { version } = await registry.getModelVersion(
          { model: step.model, selector: { case: 'alias', value: step.alias } },
          { parent, deadline },
        );
        if (!version?.spec?.input) throw new Error('version has no input spec');
        chain.push({
          model: step.model,
          alias: step.alias,
          version: version.version,
          inputName: version.spec.input.name,
          contract: version.spec.contract?.inputs ?? [],
          outputs: version.spec.outputs,
        });
      } catch (error) {
        complete = false;
        // One unresolvable step must not take the scorer down: the chain goes on without it.
        logger.warn(
          { err: error, scorer: name, model: step.model, alias: step.alias },
          'chain step could not be resolved; skipped',
        );
      }
    }
    return {
      scorer,
      chain,
      budgetMs: scorer.budget ? durationMs(scorer.budget) : undefined,
      complete,
    };
  }

  return {
    async resolve(name, parent, deadline) {
      const cached = cache.get(name);
      if (cached && Date.now() - cached.fetchedAt < options.cacheMs) return cached.route;
      try {
        const { complete, ...route } = await fetchRoute(name, parent, deadline);
        if (complete) {
          cache.set(name, { route, fetchedAt: Date.now() });
        } else if (cached) {
          // A step failed to resolve (registry slow or busy): the last complete route is better
          // than a shorter chain; ask again on the next call.
          return cached.route;
        }
        return route;
      } catch (error) {
        const rpcError = RpcError.from(error);
        if (rpcError.code === Code.NOT_FOUND) {
          cache.delete(name);
          throw RpcError.notFound(`scorer "${name}" not found`);
        }
        if (cached) {
          logger.warn(
            { err: error, scorer: name },
            'registry unreachable; serving the last known route',
          );
          return cached.route;
        }
        throw new RpcError(
          Code.UNAVAILABLE,
          `scorer "${name}" cannot be resolved: registry unavailable (${rpcError.message})`,
          {
            cause: error,
          },
        );
      }
    },
  };
}

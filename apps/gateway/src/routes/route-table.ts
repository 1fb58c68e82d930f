import { durationMs } from '@bufbuild/protobuf/wkt';
import type { ModelVersion, RegistryService, Scorer, WatchResponse } from '@scoregate/contracts';
import { backoffDelay, pause } from '@scoregate/resilience';
import { Code, RpcError, type CallContext, type RpcClient, type RpcLogger } from '@scoregate/rpc';
import { getMeter } from '@scoregate/telemetry';
import type { ChainModel, Route, RouteResolver } from '../route-resolver.js';

/** A scorer's canary or shadow target, resolved to a version with its contract. */
export interface RoutedTarget {
  readonly model: ChainModel;
  /** Share of entities (0..1) sent to it, sticky by entity key. */
  readonly share: number;
}

/**
 * A route as the table serves it: the scorer's chain, plus its canary (a version of the chain's
 * first model) and shadow model when the scorer has them and they resolve.
 */
export interface TableRoute extends Route {
  readonly canary: RoutedTarget | undefined;
  readonly shadow: RoutedTarget | undefined;
}

export interface RouteTable extends RouteResolver {
  /**
   * The route of a scorer. From the table once the first snapshot is in (NOT_FOUND for a scorer
   * the registry does not have); before that, asked from the registry directly. `parent` and
   * `deadline` only bound that direct ask.
   */
  resolve(scorer: string, parent?: CallContext, deadline?: number): Promise<TableRoute>;
  /** True once a first snapshot of the registry has been applied. */
  ready(): boolean;
  /** Resolves when ready() becomes true. */
  whenReady(): Promise<void>;
  /** The last registry revision applied (0n before the first snapshot). */
  revision(): bigint;
  /** Counts since creation: snapshots applied, live changes applied, watch restarts. */
  stats(): { readonly snapshots: number; readonly changes: number; readonly watchRestarts: number };
  /** The scorers the table knows, by name. */
  scorers(): readonly string[];
  /** Stops following the registry. Does not close the registry client. */
  stop(): Promise<void>;
}

export interface RouteTableOptions {
  readonly registry: RpcClient<typeof RegistryService>;
  readonly logger: RpcLogger;
  /** First back-off between watch attempts (ms); doubles up to maxBackoffMs. Default 100. */
  readonly minBackoffMs?: number;
  /** Longest back-off between watch attempts (ms). Default 2000. */
  readonly maxBackoffMs?: number;
}

interface State {
  /** `model@version` → version. */
  readonly versions: Map<string, ModelVersion>;
  /** model → alias → version. */
  readonly aliases: Map<string, Map<string, string>>;
  readonly scorers: Map<string, Scorer>;
}

const emptyState = (): State => ({ versions: new Map(), aliases: new Map(), scorers: new Map() });
const keyOf = (model: string, version: string) => `${model}@${version}`;

function toChainModel(model: string, alias: string, version: ModelVersion): ChainModel {
  if (!version.spec?.input) throw new Error(`${keyOf(model, version.version)} has no input spec`);
  return {
    model,
    alias,
    version: version.version,
    inputName: version.spec.input.name,
    contract: version.spec.contract?.inputs ?? [],
    outputs: version.spec.outputs,
  };
}

/**
 * Follows the registry's Watch stream and keeps every scorer's route resolved: chain steps,
 * canary and shadow to concrete versions with their feature contracts. A change in the
 * registry (scorer put or deleted, alias moved, version registered) applies at once; while the
 * registry is away, the routes last known keep serving, however long, and the watch resumes
 * from the last revision it applied when the registry returns.
 */
export function createRouteTable(options: RouteTableOptions): RouteTable {
  const { registry, logger } = options;
  const backoff = {
    initialMs: options.minBackoffMs ?? 100,
    maxMs: options.maxBackoffMs ?? 2_000,
    jitter: true,
  };
  const meter = getMeter('scoregate.gateway');
  const watchRestarts = meter.createCounter('scoregate.gateway.route_watch.restarts', {
    description: 'Times the gateway resumed its registry watch after the stream ended or failed',
  });
  const routeChanges = meter.createCounter('scoregate.gateway.route_table.changes', {
    description: 'Registry changes applied to the gateway route table',
  });

  let state = emptyState();
  let routes = new Map<string, TableRoute>();
  let revision = 0n;
  let isReady = false;
  const counts = { snapshots: 0, changes: 0, watchRestarts: 0 };
  let snapshot: State | undefined;
  let markReady!: () => void;
  const readyPromise = new Promise<void>((resolve) => (markReady = resolve));
  const stopping = new AbortController();

  function resolveStep(
    s: State,
    scorer: string,
    model: string,
    alias: string,
  ): ChainModel | undefined {
    const version = s.aliases.get(model)?.get(alias);
    const found = version === undefined ? undefined : s.versions.get(keyOf(model, version));
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

  function routeOf(s: State, scorer: Scorer): TableRoute {
    const chain = scorer.chain
      .map((step) => resolveStep(s, scorer.name, step.model, step.alias))
      .filter((m): m is ChainModel => m !== undefined);
    const first = scorer.chain[0];
    const canary =
      scorer.canary?.alias && scorer.canary.share > 0 && first
        ? resolveStep(s, scorer.name, first.model, scorer.canary.alias)
        : undefined;
    const shadow =
      scorer.shadow?.model && scorer.shadow.alias && scorer.shadow.share > 0
        ? resolveStep(s, scorer.name, scorer.shadow.model, scorer.shadow.alias)
        : undefined;
    return {
      scorer,
      chain,
      budgetMs: scorer.budget ? durationMs(scorer.budget) : undefined,
      canary: canary && { model: canary, share: Math.min(1, scorer.canary!.share) },
      shadow: shadow && { model: shadow, share: Math.min(1, scorer.shadow!.share) },
    };
  }

  /** Rebuilds every route from the state: a handful of scorers, so rebuilding all is cheap. */
  function publish(next: State): void {
    state = next;
    const built = new Map<string, TableRoute>();
    for (const scorer of next.scorers.values()) built.set(scorer.name, routeOf(next, scorer));
    routes = built;
  }

  function apply(s: State, change: WatchResponse['change']): void {
    switch (change.case) {
      case 'versionRegistered': {
        const v = change.value;
        s.versions.set(keyOf(v.model, v.version), v);
        break;
      }
      case 'aliasMoved': {
        const m = change.value;
        if (!s.aliases.has(m.model)) s.aliases.set(m.model, new Map());
        s.aliases.get(m.model)!.set(m.alias, m.toVersion);
        break;
      }
      case 'aliasDeleted':
        s.aliases.get(change.value.model)?.delete(change.value.alias);
        break;
      case 'scorerPut':
        s.scorers.set(change.value.name, change.value);
        break;
      case 'scorerDeleted':
        s.scorers.delete(change.value);
        break;
      default:
        break;
    }
  }

  function handle(message: WatchResponse): void {
    if (message.snapshot) {
      snapshot ??= emptyState();
      if (message.change.case !== 'snapshotComplete') {
        apply(snapshot, message.change);
        return;
      }
      // Replace, not patch: whatever the previous state held and the snapshot lacks is gone.
      publish(snapshot);
      snapshot = undefined;
      revision = message.revision;
      counts.snapshots++;
      routeChanges.add(1, { kind: 'snapshot' });
      logger.info(
        { revision: String(revision), scorers: [...routes.keys()] },
        'route table loaded from a registry snapshot',
      );
      if (!isReady) {
        isReady = true;
        markReady();
      }
      return;
    }
    // A live change: only meaningful on top of a complete state (a resumed stream has one).
    if (message.revision <= revision) return; // already applied: never twice
    const next: State = {
      versions: new Map(state.versions),
      aliases: new Map([...state.aliases].map(([m, a]) => [m, new Map(a)])),
      scorers: new Map(state.scorers),
    };
    apply(next, message.change);
    publish(next);
    revision = message.revision;
    counts.changes++;
    routeChanges.add(1, { kind: message.change.case ?? 'unknown' });
    logger.info(
      { revision: String(revision), change: message.change.case },
      'route table updated from the registry',
    );
  }

  async function follow(): Promise<void> {
    let attempt = 0;
    while (!stopping.signal.aborted) {
      try {
        snapshot = undefined;
        for await (const message of registry.watch(
          { fromRevision: revision },
          { signal: stopping.signal },
        )) {
          attempt = 0;
          handle(message);
        }
      } catch (error) {
        if (stopping.signal.aborted) break;
        const rpc = RpcError.from(error);
        const line = `registry watch interrupted (${rpc.message}); the last known routes keep serving; resuming from revision ${revision}`;
        const fields = { code: rpc.code, revision: String(revision), attempt };
        if (attempt === 0) logger.warn(fields, line);
        else logger.info(fields, line);
      }
      if (stopping.signal.aborted) break;
      counts.watchRestarts++;
      watchRestarts.add(1);
      attempt++;
      await pause(backoffDelay(backoff, attempt), stopping.signal);
    }
  }

  const running = follow();

  /** Before the first snapshot: the route straight from the registry, as route-resolver does. */
  async function fetchRoute(
    name: string,
    parent: CallContext | undefined,
    deadline: number | undefined,
  ): Promise<TableRoute> {
    const callOptions = {
      ...(parent ? { parent } : {}),
      ...(deadline !== undefined && Number.isFinite(deadline)
        ? { deadline }
        : { timeoutMs: 1_000 }),
    };
    let scorer: Scorer | undefined;
    try {
      scorer = (await registry.getScorer({ name }, callOptions)).scorer;
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
    const s = emptyState();
    s.scorers.set(name, scorer);
    const steps = [
      ...scorer.chain,
      ...(scorer.canary?.alias && scorer.chain[0]
        ? [{ model: scorer.chain[0].model, alias: scorer.canary.alias }]
        : []),
      ...(scorer.shadow?.model ? [{ model: scorer.shadow.model, alias: scorer.shadow.alias }] : []),
    ];
    await Promise.all(
      steps.map(async ({ model, alias }) => {
        try {
          const { version } = await registry.getModelVersion(
            { model, selector: { case: 'alias', value: alias } },
            callOptions,
          );
          if (!version) return;
          s.versions.set(keyOf(model, version.version), version);
          if (!s.aliases.has(model)) s.aliases.set(model, new Map());
          s.aliases.get(model)!.set(alias, version.version);
        } catch {
          // resolveStep logs the step as skipped.
        }
      }),
    );
    return routeOf(s, scorer);
  }

  return {
    async resolve(name, parent, deadline) {
      if (isReady) {
        const route = routes.get(name);
        if (!route) throw RpcError.notFound(`scorer "${name}" not found`);
        return route;
      }
      return fetchRoute(name, parent, deadline);
    },
    ready: () => isReady,
    whenReady: () => readyPromise,
    revision: () => revision,
    stats: () => ({ ...counts }),
    scorers: () => [...routes.keys()],
    async stop() {
      stopping.abort();
      await running.catch(() => undefined);
    },
  };
}

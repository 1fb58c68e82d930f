import type { RegistryService } from '@scoregate/contracts';
import { createRegistryWatch, type RegistryChange } from '@scoregate/registry-watch';
import { RpcError, type CallContext, type RpcClient, type RpcLogger } from '@scoregate/rpc';
import { getMeter } from '@scoregate/telemetry';
import type { ChainModel, Route, RouteResolver } from '../route-resolver.js';
import { buildRoutes } from './route-builder.js';
import { fetchRoute } from './registry-route.js';
import {
  applyRouteChange,
  copyRouteState,
  emptyRouteState,
  type RouteState,
} from './route-state.js';

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

/**
 * Follows the registry's Watch stream and keeps every scorer's route resolved: chain steps,
 * canary and shadow to concrete versions with their feature contracts. A change in the
 * registry (scorer put or deleted, alias moved, version registered) applies at once; while the
 * registry is away, the routes last known keep serving, however long, and the watch resumes
 * from the last revision it applied when the registry returns.
 */
export function createRouteTable(options: RouteTableOptions): RouteTable {
  const { registry, logger } = options;
  const served = new ServedRoutes(logger);
  const watch = createRegistryWatch({
    client: registry,
    logger,
    backoff: { initialMs: options.minBackoffMs ?? 100, maxMs: options.maxBackoffMs ?? 2_000 },
    keepsServing: 'the last known routes',
    onSnapshot: (items, revision) => served.loadSnapshot(items, revision),
    onChange: (change, revision) => served.applyChange(change, revision),
    onRestart: () => served.watchRestarted(),
  });
  watch.start();

  return {
    async resolve(name, parent, deadline) {
      if (!watch.ready()) return fetchRoute(registry, logger, name, parent, deadline);
      const route = served.routes.get(name);
      if (!route) throw RpcError.notFound(`scorer "${name}" not found`);
      return route;
    },
    ready: watch.ready,
    whenReady: watch.whenReady,
    revision: watch.revision,
    stats: () => ({ ...served.counts }),
    scorers: () => [...served.routes.keys()],
    stop: watch.stop,
  };
}

/** The routes the table serves: rebuilt from the registry state on each snapshot and change. */
class ServedRoutes {
  routes = new Map<string, TableRoute>();
  readonly counts = { snapshots: 0, changes: 0, watchRestarts: 0 };
  private state = emptyRouteState();
  private readonly metrics = routeTableMetrics();

  constructor(private readonly logger: RpcLogger) {}

  loadSnapshot(items: readonly RegistryChange[], revision: bigint): void {
    // Replace, not patch: whatever the previous state held and the snapshot lacks is gone.
    const next = emptyRouteState();
    for (const item of items) applyRouteChange(next, item);
    this.publish(next);
    this.counts.snapshots++;
    this.metrics.changes.add(1, { kind: 'snapshot' });
    this.logger.info(
      { revision: String(revision), scorers: [...this.routes.keys()] },
      'route table loaded from a registry snapshot',
    );
  }

  applyChange(change: RegistryChange, revision: bigint): void {
    const next = copyRouteState(this.state);
    applyRouteChange(next, change);
    this.publish(next);
    this.counts.changes++;
    this.metrics.changes.add(1, { kind: change.case ?? 'unknown' });
    this.logger.info(
      { revision: String(revision), change: change.case },
      'route table updated from the registry',
    );
  }

  watchRestarted(): void {
    this.counts.watchRestarts++;
    this.metrics.watchRestarts.add(1);
  }

  private publish(next: RouteState): void {
    this.state = next;
    this.routes = buildRoutes(next, this.logger);
  }
}

function routeTableMetrics() {
  const meter = getMeter('scoregate.gateway');
  return {
    watchRestarts: meter.createCounter('scoregate.gateway.route_watch.restarts', {
      description: 'Times the gateway resumed its registry watch after the stream ended or failed',
    }),
    changes: meter.createCounter('scoregate.gateway.route_table.changes', {
      description: 'Registry changes applied to the gateway route table',
    }),
  };
}

import type { RpcLogger } from '@scoregate/rpc';
import { createAliasSync } from './alias-sync.js';
import { neededVersions } from './load-plan.js';
import type { ModelStore } from './model-store.js';
import { versionKey, type RegistryState } from './registry-state.js';
import { Retirements } from './retirements.js';
import type { VersionLoader } from './version-loader.js';
import { VersionLoads } from './version-loads.js';

export interface ModelReconcilerOptions {
  readonly store: ModelStore;
  readonly logger: RpcLogger;
  readonly loader: VersionLoader;
  /** How long a version that nothing needs any more stays loaded. */
  readonly retireAfterMs: number;
  /** Aborted when the service stops: from then on, nothing is loaded, moved or retired. */
  readonly signal: AbortSignal;
  /** The registry revision the state is at (for the log line that says ready). */
  revision(): bigint;
}

export interface ModelReconciler {
  /** Takes the registry state to serve (a snapshot, a live change, or the cached state). */
  apply(state: RegistryState): void;
  /** True once the versions of the first state applied are settled (loaded or failed). */
  ready(): boolean;
  whenReady(): Promise<void>;
  /** Cancels the pending retirements and retries and waits for the load running now. */
  stop(): Promise<void>;
}

/**
 * Keeps the store in line with the registry state: loads the versions it needs, moves each
 * alias once its target serves, and retires, after a grace period, what nothing needs any more.
 * Runs again whenever the state changes, a load ends or a retry is due.
 */
export function createModelReconciler(options: ModelReconcilerOptions): ModelReconciler {
  const { store, logger, signal } = options;
  let state: RegistryState | undefined;
  let isReady = false;
  let markReady: () => void = () => {};
  const readyPromise = new Promise<void>((resolve) => (markReady = resolve));
  const syncAliases = createAliasSync(store, logger);
  const loads = new VersionLoads(options.loader, store, () => reconcile());
  const retirements = new Retirements({
    store,
    logger,
    graceMs: options.retireAfterMs,
    isNeeded: (key) => state !== undefined && neededVersions(state, store).has(key),
  });

  function reconcile(): void {
    if (signal.aborted || !state) return;
    const settled = loads.request(neededVersions(state, store), state.versions);
    syncAliases(state);
    // What is needed now that aliases have moved: the rest starts its grace period.
    retirements.update(neededVersions(state, store));
    loads.scheduleRetry();
    if (settled && loads.idle() && !isReady) {
      isReady = true;
      markReady();
      logger.info(
        {
          models: store.list().map((s) => versionKey(s.name, s.version)),
          revision: String(options.revision()),
        },
        'models of the registry snapshot loaded: ready',
      );
    }
  }

  return {
    apply(next) {
      state = next;
      reconcile();
    },
    ready: () => isReady,
    whenReady: () => readyPromise,
    async stop() {
      retirements.clear();
      await loads.stop();
    },
  };
}

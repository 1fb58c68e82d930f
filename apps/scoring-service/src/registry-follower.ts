import { RegistryService } from '@scoregate/contracts';
import { createRegistryWatch } from '@scoregate/registry-watch';
import { createRpcClient, type RpcClient, type RpcLogger, type TlsOptions } from '@scoregate/rpc';
import type { ArtifactCache } from './artifact-cache.js';
import type { MicroBatcherOptions } from './micro-batcher.js';
import { createModelReconciler } from './model-reconciler.js';
import type { ModelStore } from './model-store.js';
import {
  fromCachedState,
  stateOfSnapshot,
  toCachedState,
  withRegistryChange,
  type RegistryState,
} from './registry-state.js';
import { createVersionLoader, type VersionLoader } from './version-loader.js';

export interface RegistryFollowerOptions {
  /** registry-service target, `host:port`. */
  readonly address: string;
  readonly store: ModelStore;
  readonly logger: RpcLogger;
  /** Downloaded artifacts and the last known state; none = download every time. */
  readonly cache?: ArtifactCache;
  readonly intraOpThreads: number;
  readonly batching: MicroBatcherOptions;
  /**
   * How long a version that no alias points at any more stays loaded, so that callers that
   * resolved the alias a moment ago (the gateway caches routes) still find it.
   */
  readonly retireAfterMs: number;
  /** Largest artifact accepted. */
  readonly maxArtifactBytes: number;
  /** Reconnection backoff: first delay, doubled per failed attempt up to `maxBackoffMs`. */
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Time allowed for one download. */
  readonly downloadTimeoutMs?: number;
  /** TLS to registry-service (with this service's certificate for mTLS). Plaintext when absent. */
  readonly tls?: TlsOptions;
}

export interface RegistryFollower {
  /** True once the models of the first snapshot (from the registry or the cache) are settled. */
  ready(): boolean;
  /** Resolves when ready(). */
  whenReady(): Promise<void>;
  /** The last registry revision applied. */
  revision(): bigint;
  /** Stops watching and retires nothing (the store is released by its owner). */
  stop(): Promise<void>;
}

/**
 * Follows registry-service: watches it from revision 0 (a snapshot, then live changes), and keeps
 * loaded every version an alias points at plus each model's highest version. A version is
 * downloaded (or read from the cache), checked against its size and sha256, loaded in
 * onnxruntime and warmed up on zeros; only then do the aliases that point at it move in the
 * store, atomically. A version that fails any step never replaces the one serving: the failure is
 * logged, counted (`scoregate.scoring.model.load_failures`) and shown by ModelReady/NOT_FOUND for that
 * version. Transient download errors are retried; a bad artifact is not (versions are immutable).
 *
 * Until the registry answers, the state last saved in the cache serves. When the stream breaks,
 * the loaded models keep serving and the watch resumes from the last revision seen, with
 * exponential backoff.
 */
export function createRegistryFollower(options: RegistryFollowerOptions): RegistryFollower {
  const { store, logger, cache } = options;
  const client = createRpcClient(RegistryService, {
    address: options.address,
    maxReceiveMessageBytes: 2 * 1024 * 1024,
    ...(options.tls ? { tls: options.tls } : {}),
  });
  const stopping = new AbortController();
  const reconciler = createModelReconciler({
    store,
    logger,
    loader: versionLoaderFor(options, client, stopping.signal),
    retireAfterMs: options.retireAfterMs,
    signal: stopping.signal,
    revision: () => watch.revision(),
  });
  let known: RegistryState = { versions: new Map(), aliases: new Map() };
  const apply = (state: RegistryState) => {
    known = state;
    reconciler.apply(state);
    if (cache) saveState(cache, state, logger);
  };
  const watch = createRegistryWatch({
    client,
    logger,
    backoff: { initialMs: options.minBackoffMs ?? 100, maxMs: options.maxBackoffMs ?? 5_000 },
    keepsServing: 'loaded models',
    onSnapshot: (items) => apply(stateOfSnapshot(items)),
    onChange: (change) => apply(withRegistryChange(known, change)),
  });
  const started = restoreState(cache, logger, apply).then(() => watch.start());

  return {
    ready: reconciler.ready,
    whenReady: reconciler.whenReady,
    revision: watch.revision,
    async stop() {
      stopping.abort();
      const loadsSettled = reconciler.stop();
      await watch.stop();
      await started.catch(() => undefined);
      await loadsSettled;
      client.close();
    },
  };
}

function versionLoaderFor(
  options: RegistryFollowerOptions,
  client: RpcClient<typeof RegistryService>,
  signal: AbortSignal,
): VersionLoader {
  return createVersionLoader({
    client,
    store: options.store,
    logger: options.logger,
    cache: options.cache,
    intraOpThreads: options.intraOpThreads,
    batching: options.batching,
    download: {
      maxArtifactBytes: options.maxArtifactBytes,
      timeoutMs: options.downloadTimeoutMs ?? 60_000,
      signal,
    },
  });
}

/** Serves the state last saved in the cache, if any, until the registry answers. */
async function restoreState(
  cache: ArtifactCache | undefined,
  logger: RpcLogger,
  apply: (state: RegistryState) => void,
): Promise<void> {
  const cached = await cache?.readState();
  if (!cached) return;
  logger.info(
    { versions: cached.versions.length },
    'serving the last known registry state from the cache until the registry answers',
  );
  apply(fromCachedState(cached));
}

/** Saves the state off the watch path, so that a restart can serve with the registry down. */
function saveState(cache: ArtifactCache, state: RegistryState, logger: RpcLogger): void {
  void cache
    .writeState(toCachedState(state))
    .catch((error: unknown) => logger.warn({ err: error }, 'could not save the registry state'));
}

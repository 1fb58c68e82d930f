import { RegistryService, type WatchResponse } from '@scoregate/contracts';
import { loadOnnxModel, type OnnxModel } from '@scoregate/inference';
import { backoffDelay, pause } from '@scoregate/resilience';
import {
  RpcError,
  createRpcClient,
  type RpcClient,
  type RpcLogger,
  type TlsOptions,
} from '@scoregate/rpc';
import { getMeter } from '@scoregate/telemetry';
import { sha256Hex, type ArtifactCache, type CachedState } from './artifact-cache.js';
import type { MicroBatcherOptions } from './micro-batcher.js';
import type { LoadFailure, ModelStore } from './model-store.js';
import { createServedModel, warmUp } from './served-model.js';

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

interface KnownVersion {
  readonly model: string;
  readonly version: string;
  readonly sha256: string;
  readonly sizeBytes: bigint;
}

class LoadError extends Error {
  constructor(
    readonly stage: LoadFailure['stage'],
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

const keyOf = (model: string, version: string) => `${model}@${version}`;

/**
 * Follows registry-service: watches it from revision 0 (a snapshot, then live changes), and keeps
 * loaded every version an alias points at plus each model's highest version. A version is
 * downloaded (or read from the cache), checked against its size and sha256, loaded in
 * onnxruntime and warmed up on zeros; only then do the aliases that point at it move in the
 * store, atomically. A version that fails any step never replaces the one serving: the failure is
 * logged, counted (`scoregate.scoring.model.load_failures`) and shown by ModelReady/NOT_FOUND for that
 * version. Transient download errors are retried; a bad artifact is not (versions are immutable).
 *
 * When the stream breaks, the loaded models keep serving and the watch resumes from the last
 * revision seen, with exponential backoff.
 */
export function createRegistryFollower(options: RegistryFollowerOptions): RegistryFollower {
  const { store, logger, cache } = options;
  const backoff = {
    initialMs: options.minBackoffMs ?? 100,
    maxMs: options.maxBackoffMs ?? 5_000,
    jitter: true,
  };
  const client: RpcClient<typeof RegistryService> = createRpcClient(RegistryService, {
    address: options.address,
    maxReceiveMessageBytes: 2 * 1024 * 1024,
    ...(options.tls ? { tls: options.tls } : {}),
  });
  const meter = getMeter('scoregate.scoring-service');
  const loadFailures = meter.createCounter('scoregate.scoring.model.load_failures', {
    description: 'Model versions that failed to download, verify, load or warm up',
  });
  const aliasMoves = meter.createCounter('scoregate.scoring.model.alias_swaps', {
    description: 'Alias moves applied (the new version loaded and serving)',
  });

  const stopping = new AbortController();
  let known = new Map<string, KnownVersion>();
  let wantedAliases = new Map<string, Map<string, string>>();
  let revision = 0n;
  let haveState = false;
  let isReady = false;
  let markReady: () => void = () => {};
  const readyPromise = new Promise<void>((resolve) => (markReady = resolve));
  const loading = new Set<string>();
  /** Versions that failed for good (bad artifact), by key. */
  const broken = new Set<string>();
  /** Versions whose download failed, by key → time after which to try again. */
  const retryAt = new Map<string, number>();
  const retireTimers = new Map<string, NodeJS.Timeout>();
  let retryTimer: NodeJS.Timeout | undefined;
  let loadChain = Promise.resolve();

  /** The versions that must be loaded: alias targets, each model's highest, and what serves. */
  function neededKeys(): Set<string> {
    const needed = new Set<string>();
    for (const [model, aliases] of wantedAliases)
      for (const version of aliases.values()) needed.add(keyOf(model, version));
    const highest = new Map<string, KnownVersion>();
    for (const v of known.values()) {
      const best = highest.get(v.model);
      if (!best || BigInt(v.version) > BigInt(best.version)) highest.set(v.model, v);
    }
    for (const v of highest.values()) needed.add(keyOf(v.model, v.version));
    return needed;
  }

  function reconcile(): void {
    if (stopping.signal.aborted) return;
    const needed = neededKeys();
    // Keep what serves an alias now, until the alias's new target is ready.
    for (const served of store.list()) {
      const aliases = store.aliases(served.name);
      if (Object.values(aliases).includes(served.version))
        needed.add(keyOf(served.name, served.version));
    }
    const now = Date.now();
    let settled = true;
    for (const key of needed) {
      const v = known.get(key);
      const [model, version] = key.split('@') as [string, string];
      if (store.get(model, version)) continue;
      if (!v || broken.has(key)) continue;
      const retry = retryAt.get(key);
      if (retry !== undefined && retry > now) continue;
      settled = settled && retry !== undefined;
      if (!loading.has(key)) {
        loading.add(key);
        loadChain = loadChain.then(() => load(v)).finally(() => loading.delete(key));
        void loadChain.then(reconcile);
      }
    }
    // Move (or drop) aliases whose targets are loaded; others keep serving their old version.
    for (const [model, aliases] of wantedAliases) {
      for (const [alias, version] of aliases) {
        const before = store.aliases(model)[alias];
        if (before === version) continue;
        if (store.setAlias(model, alias, version)) {
          aliasMoves.add(1, { model, alias });
          logger.info(
            { model, alias, from: before ?? null, to: version },
            `${model} ${alias} now serves version ${version}${before ? ` (was ${before})` : ''}`,
          );
        }
      }
    }
    for (const served of store.list()) {
      for (const alias of Object.keys(store.aliases(served.name))) {
        if (!wantedAliases.get(served.name)?.has(alias)) store.deleteAlias(served.name, alias);
      }
    }
    // Retire, after a grace period, what nothing needs any more (now that aliases have moved).
    const keep = neededKeys();
    for (const served of store.list()) {
      if (Object.values(store.aliases(served.name)).includes(served.version))
        keep.add(keyOf(served.name, served.version));
    }
    for (const served of store.list()) {
      const key = keyOf(served.name, served.version);
      const timer = retireTimers.get(key);
      if (keep.has(key)) {
        if (timer) clearTimeout(timer);
        retireTimers.delete(key);
      } else if (!timer) {
        retireTimers.set(
          key,
          setTimeout(() => {
            retireTimers.delete(key);
            if (
              neededKeys().has(key) ||
              Object.values(store.aliases(served.name)).includes(served.version)
            )
              return;
            logger.info({ model: served.name, version: served.version }, `retiring ${key}`);
            void store.remove(served.name, served.version);
          }, options.retireAfterMs).unref(),
        );
      }
    }
    if (retryAt.size > 0 && !retryTimer) {
      const next = Math.max(0, Math.min(...retryAt.values()) - Date.now());
      retryTimer = setTimeout(() => {
        retryTimer = undefined;
        reconcile();
      }, next).unref();
    }
    if (haveState && settled && loading.size === 0 && !isReady) {
      isReady = true;
      markReady();
      logger.info(
        { models: store.list().map((s) => keyOf(s.name, s.version)), revision: String(revision) },
        'models of the registry snapshot loaded: ready',
      );
    }
  }

  async function load(v: KnownVersion): Promise<void> {
    if (stopping.signal.aborted || store.get(v.model, v.version)) return;
    const key = keyOf(v.model, v.version);
    let model: OnnxModel | undefined;
    try {
      const bytes = await artifactOf(v);
      try {
        model = await loadOnnxModel(bytes, { intraOpThreads: options.intraOpThreads });
      } catch (error) {
        throw new LoadError('load', (error as Error).message, { cause: error });
      }
      try {
        await warmUp(model);
      } catch (error) {
        throw new LoadError('warm-up', (error as Error).message, { cause: error });
      }
      store.add(
        createServedModel({
          name: v.model,
          version: v.version,
          model,
          sha256: v.sha256,
          batching: options.batching,
        }),
      );
      retryAt.delete(key);
      logger.info({ model: v.model, version: v.version, sha256: v.sha256 }, `loaded ${key}`);
    } catch (error) {
      await model?.release().catch(() => undefined);
      const failure =
        error instanceof LoadError
          ? error
          : new LoadError('download', (error as Error).message, { cause: error });
      store.setFailure(v.model, v.version, { stage: failure.stage, message: failure.message });
      loadFailures.add(1, { model: v.model, version: v.version, stage: failure.stage });
      if (failure.stage === 'download') {
        retryAt.set(key, Date.now() + 2_000);
      } else {
        broken.add(key);
      }
      logger.error(
        { model: v.model, version: v.version, stage: failure.stage, err: failure },
        `${key} cannot serve (${failure.stage} failed): ${failure.message}; the version serving now keeps serving`,
      );
    }
  }

  async function artifactOf(v: KnownVersion): Promise<Uint8Array> {
    const cached = await cache?.get(v.sha256);
    if (cached && BigInt(cached.length) === v.sizeBytes) return cached;
    const bytes = await download(v);
    await cache
      ?.put(v.sha256, bytes)
      .catch((error: unknown) => logger.warn({ err: error }, `could not cache ${v.sha256}`));
    return bytes;
  }

  async function download(v: KnownVersion): Promise<Uint8Array> {
    if (v.sizeBytes > BigInt(options.maxArtifactBytes)) {
      throw new LoadError(
        'verify',
        `artifact of ${v.sizeBytes} bytes exceeds the limit of ${options.maxArtifactBytes}`,
      );
    }
    const size = Number(v.sizeBytes);
    const bytes = new Uint8Array(size);
    let received = 0;
    let header = false;
    for await (const message of client.downloadModelVersion(
      { model: v.model, selector: { case: 'version', value: v.version } },
      { timeoutMs: options.downloadTimeoutMs ?? 60_000, signal: stopping.signal },
    )) {
      if (message.content.case === 'version') {
        const meta = message.content.value;
        if (meta.sha256 !== v.sha256 || meta.sizeBytes !== v.sizeBytes) {
          throw new LoadError(
            'verify',
            `the download describes sha256 ${meta.sha256} (${meta.sizeBytes} bytes), the registry's watch said ${v.sha256} (${v.sizeBytes} bytes)`,
          );
        }
        header = true;
      } else if (message.content.case === 'chunk') {
        if (!header) throw new LoadError('verify', 'the download sent bytes before its metadata');
        const chunk = message.content.value;
        if (received + chunk.length > size) {
          throw new LoadError('verify', `the download sent more than the declared ${size} bytes`);
        }
        bytes.set(chunk, received);
        received += chunk.length;
      }
    }
    if (received !== size)
      throw new LoadError('verify', `the download ended after ${received} of ${size} bytes`);
    const digest = sha256Hex(bytes);
    if (digest !== v.sha256) {
      throw new LoadError(
        'verify',
        `the downloaded bytes have sha256 ${digest}, the registry declares ${v.sha256}`,
      );
    }
    return bytes;
  }

  function applyState(versions: Map<string, KnownVersion>, aliases: typeof wantedAliases): void {
    known = versions;
    wantedAliases = aliases;
    haveState = true;
    reconcile();
    if (cache) {
      const state: CachedState = {
        versions: [...known.values()].map((v) => ({ ...v, sizeBytes: String(v.sizeBytes) })),
        aliases: Object.fromEntries(
          [...wantedAliases].map(([model, a]) => [model, Object.fromEntries(a)]),
        ),
      };
      void cache
        .writeState(state)
        .catch((error: unknown) =>
          logger.warn({ err: error }, 'could not save the registry state'),
        );
    }
  }

  const copyAliases = () => new Map([...wantedAliases].map(([m, a]) => [m, new Map(a)]));

  let snapshotVersions: Map<string, KnownVersion> | undefined;
  let snapshotAliases: typeof wantedAliases | undefined;

  function handle(change: WatchResponse): void {
    if (change.snapshot) {
      snapshotVersions ??= new Map();
      snapshotAliases ??= new Map();
      switch (change.change.case) {
        case 'versionRegistered': {
          const v = change.change.value;
          snapshotVersions.set(keyOf(v.model, v.version), toKnown(v));
          break;
        }
        case 'aliasMoved': {
          const m = change.change.value;
          if (!snapshotAliases.has(m.model)) snapshotAliases.set(m.model, new Map());
          snapshotAliases.get(m.model)?.set(m.alias, m.toVersion);
          break;
        }
        case 'snapshotComplete':
          revision = change.revision;
          applyState(snapshotVersions, snapshotAliases);
          snapshotVersions = undefined;
          snapshotAliases = undefined;
          break;
        default:
          break;
      }
      return;
    }
    const versions = new Map(known);
    const aliases = copyAliases();
    switch (change.change.case) {
      case 'versionRegistered': {
        const v = change.change.value;
        versions.set(keyOf(v.model, v.version), toKnown(v));
        break;
      }
      case 'aliasMoved': {
        const m = change.change.value;
        if (!aliases.has(m.model)) aliases.set(m.model, new Map());
        aliases.get(m.model)?.set(m.alias, m.toVersion);
        break;
      }
      case 'aliasDeleted': {
        const d = change.change.value;
        aliases.get(d.model)?.delete(d.alias);
        break;
      }
      default:
        break;
    }
    revision = change.revision > revision ? change.revision : revision;
    applyState(versions, aliases);
  }

  async function watchLoop(): Promise<void> {
    let attempt = 0;
    while (!stopping.signal.aborted) {
      try {
        snapshotVersions = undefined;
        snapshotAliases = undefined;
        for await (const change of client.watch(
          { fromRevision: revision },
          { signal: stopping.signal },
        )) {
          attempt = 0;
          handle(change);
        }
      } catch (error) {
        if (stopping.signal.aborted) break;
        const rpc = RpcError.from(error);
        const level = attempt === 0 ? 'warn' : 'info';
        logger[level](
          { code: rpc.code, revision: String(revision), attempt },
          `registry watch interrupted (${rpc.message}); loaded models keep serving; resuming from revision ${revision}`,
        );
      }
      attempt++;
      await pause(backoffDelay(backoff, attempt), stopping.signal);
    }
  }

  async function start(): Promise<void> {
    const cached = await cache?.readState();
    if (cached && !haveState) {
      logger.info(
        { versions: cached.versions.length },
        'serving the last known registry state from the cache until the registry answers',
      );
      applyState(
        new Map(
          cached.versions.map((v) => [
            keyOf(v.model, v.version),
            { ...v, sizeBytes: BigInt(v.sizeBytes) },
          ]),
        ),
        new Map(Object.entries(cached.aliases).map(([m, a]) => [m, new Map(Object.entries(a))])),
      );
    }
    await watchLoop();
  }

  const running = start();

  return {
    ready: () => isReady,
    whenReady: () => readyPromise,
    revision: () => revision,
    async stop() {
      stopping.abort();
      for (const timer of retireTimers.values()) clearTimeout(timer);
      if (retryTimer) clearTimeout(retryTimer);
      await running.catch(() => undefined);
      await loadChain.catch(() => undefined);
      client.close();
    },
  };
}

function toKnown(v: {
  model: string;
  version: string;
  sha256: string;
  sizeBytes: bigint;
}): KnownVersion {
  return { model: v.model, version: v.version, sha256: v.sha256, sizeBytes: v.sizeBytes };
}

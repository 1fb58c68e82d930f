import { loadOnnxModel, type OnnxModel } from '@scoregate/inference';
import type { RegistryService } from '@scoregate/contracts';
import type { RpcClient, RpcLogger } from '@scoregate/rpc';
import { getMeter } from '@scoregate/telemetry';
import type { ArtifactCache } from './artifact-cache.js';
import { downloadArtifact, type ArtifactDownloadOptions } from './artifact-download.js';
import { LoadError } from './load-error.js';
import type { MicroBatcherOptions } from './micro-batcher.js';
import type { LoadFailure, ModelStore } from './model-store.js';
import { versionKey, type KnownVersion } from './registry-state.js';
import { createServedModel, warmUp, type ServedModel } from './served-model.js';

export interface VersionLoaderOptions {
  readonly client: RpcClient<typeof RegistryService>;
  readonly store: ModelStore;
  readonly logger: RpcLogger;
  /** Downloaded artifacts; none = download every time. */
  readonly cache?: ArtifactCache | undefined;
  readonly intraOpThreads: number;
  readonly batching: MicroBatcherOptions;
  /** Limits of a download; its signal also stops new loads. */
  readonly download: ArtifactDownloadOptions;
}

/** How a load ended: serving, not attempted (stopping, or loaded already), or where it failed. */
export type LoadOutcome = 'loaded' | 'skipped' | { readonly failed: LoadFailure['stage'] };

export interface VersionLoader {
  /**
   * Brings one version into the store: its artifact (from the cache, or downloaded and
   * verified), loaded in onnxruntime and warmed up on zeros. A failure is recorded in the store
   * (ModelReady shows it), counted and logged; it never touches the version serving now.
   */
  load(v: KnownVersion): Promise<LoadOutcome>;
}

export function createVersionLoader(options: VersionLoaderOptions): VersionLoader {
  const { store, logger } = options;
  const loadFailures = getMeter('scoregate.scoring-service').createCounter(
    'scoregate.scoring.model.load_failures',
    { description: 'Model versions that failed to download, verify, load or warm up' },
  );
  return {
    async load(v) {
      if (options.download.signal.aborted || store.get(v.model, v.version)) return 'skipped';
      const key = versionKey(v.model, v.version);
      try {
        store.add(await servedModelOf(options, v));
        logger.info({ model: v.model, version: v.version, sha256: v.sha256 }, `loaded ${key}`);
        return 'loaded';
      } catch (error) {
        const failure =
          error instanceof LoadError
            ? error
            : new LoadError('download', (error as Error).message, { cause: error });
        store.setFailure(v.model, v.version, { stage: failure.stage, message: failure.message });
        loadFailures.add(1, { model: v.model, version: v.version, stage: failure.stage });
        logger.error(
          { model: v.model, version: v.version, stage: failure.stage, err: failure },
          `${key} cannot serve (${failure.stage} failed): ${failure.message}; the version serving now keeps serving`,
        );
        return { failed: failure.stage };
      }
    },
  };
}

/** The version loaded and warmed up, ready to serve; a LoadError names the stage that failed. */
async function servedModelOf(options: VersionLoaderOptions, v: KnownVersion): Promise<ServedModel> {
  const bytes = await artifactOf(options, v);
  let model: OnnxModel;
  try {
    model = await loadOnnxModel(bytes, { intraOpThreads: options.intraOpThreads });
  } catch (error) {
    throw new LoadError('load', (error as Error).message, { cause: error });
  }
  try {
    await warmUp(model);
  } catch (error) {
    await model.release().catch(() => undefined);
    throw new LoadError('warm-up', (error as Error).message, { cause: error });
  }
  return createServedModel({
    name: v.model,
    version: v.version,
    model,
    sha256: v.sha256,
    nonFiniteInputs: v.nonFiniteInputs,
    batching: options.batching,
  });
}

/** The artifact from the cache when there and of the declared size; else downloaded and cached. */
async function artifactOf(options: VersionLoaderOptions, v: KnownVersion): Promise<Uint8Array> {
  const { cache, logger } = options;
  const cached = await cache?.get(v.sha256);
  if (cached && BigInt(cached.length) === v.sizeBytes) return cached;
  const bytes = await downloadArtifact(options.client, v, options.download);
  await cache
    ?.put(v.sha256, bytes)
    .catch((error: unknown) => logger.warn({ err: error }, `could not cache ${v.sha256}`));
  return bytes;
}

import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { link, mkdir, open, readdir, rm, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { isSha256 } from './names.js';

/** An upload being received: a private folder holding `model.onnx` until it is placed or discarded. */
export interface StagedArtifact {
  /** The file the bytes are written to. */
  readonly file: string;
  /**
   * Makes the file the artifact of `sha256` (no-op when that artifact is already stored) and
   * returns what undoes exactly that. Idempotent.
   */
  place(sha256: string): Promise<() => Promise<void>>;
  /** Removes the staging folder and whatever it holds. Idempotent. */
  discard(): Promise<void>;
}

/**
 * Content-addressed artifact files under `<dataDir>/artifacts/sha256/<hex>`. Paths are built from
 * a validated hex digest only, never from a name a client sent, so nothing can escape the folder.
 * Uploads are staged under `<dataDir>/staging/<uuid>/` on the same file system, then hard-linked
 * into place (atomic, and refuses to overwrite) and the staging folder is removed.
 */
export interface ArtifactStore {
  readonly root: string;
  /** The stored artifact's path; throws on a malformed digest. */
  pathOf(sha256: string): string;
  stage(): Promise<StagedArtifact>;
  /** Reads an artifact in chunks of at most `chunkBytes`. */
  read(sha256: string, chunkBytes: number): AsyncIterable<Uint8Array>;
  exists(sha256: string): Promise<boolean>;
  /**
   * Start-up clean-up after a crash: removes every stored artifact that no version references (one
   * placed by a transaction that never committed; call it under the store's write lock, see
   * RegistryStore.withReferencedDigests) and every staging folder older than `stagingGraceMs` (an
   * upload abandoned by a killed process; younger ones may be another process's uploads in
   * progress). Returns the removed digests.
   */
  sweep(referenced: ReadonlySet<string>, stagingGraceMs?: number): Promise<string[]>;
}

export async function createArtifactStore(dataDir: string): Promise<ArtifactStore> {
  const root = path.resolve(dataDir);
  const artifacts = path.join(root, 'artifacts', 'sha256');
  const staging = path.join(root, 'staging');
  await mkdir(artifacts, { recursive: true });
  await mkdir(staging, { recursive: true });

  const pathOf = (sha256: string) => {
    if (!isSha256(sha256)) throw new Error(`not a sha256 digest: "${sha256}"`);
    return path.join(artifacts, sha256);
  };
  return {
    root,
    pathOf,
    exists: (sha256) =>
      stat(pathOf(sha256)).then(
        () => true,
        () => false,
      ),
    stage: async () => stageIn(path.join(staging, randomUUID()), artifacts, pathOf),
    read: (sha256, chunkBytes) => createReadStream(pathOf(sha256), { highWaterMark: chunkBytes }),
    async sweep(referenced, stagingGraceMs = 15 * 60_000) {
      await removeOldStaging(staging, stagingGraceMs);
      return removeUnreferenced(artifacts, referenced);
    },
  };
}

/** A new staging folder `dir` whose file is placed into `artifacts` under its digest. */
async function stageIn(
  dir: string,
  artifacts: string,
  pathOf: (sha256: string) => string,
): Promise<StagedArtifact> {
  await mkdir(dir);
  const file = path.join(dir, 'model.onnx');
  let placed: (() => Promise<void>) | undefined;
  return {
    file,
    async place(sha256) {
      if (placed) return placed;
      const target = pathOf(sha256);
      // Durable before it is referenced: a committed row never points at a half-written file.
      const handle = await open(file, 'r');
      await handle.sync().finally(() => handle.close());
      try {
        await link(file, target);
        placed = () => unlink(target).catch(() => undefined);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        placed = async () => undefined; // already stored by another version: not ours to undo
      }
      await syncDir(artifacts);
      return placed;
    },
    discard: () => rm(dir, { recursive: true, force: true }),
  };
}

async function removeOldStaging(staging: string, graceMs: number): Promise<void> {
  for (const entry of await readdir(staging)) {
    const folder = path.join(staging, entry);
    const { mtimeMs } = await stat(folder).catch(() => ({ mtimeMs: Date.now() }));
    if (Date.now() - mtimeMs >= graceMs) await rm(folder, { recursive: true, force: true });
  }
}

/** Removes every entry of `artifacts` that is not a referenced digest; returns their names. */
async function removeUnreferenced(
  artifacts: string,
  referenced: ReadonlySet<string>,
): Promise<string[]> {
  const removed: string[] = [];
  for (const entry of await readdir(artifacts)) {
    if (isSha256(entry) && referenced.has(entry)) continue;
    await rm(path.join(artifacts, entry), { recursive: true, force: true });
    removed.push(entry);
  }
  return removed;
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  await handle.sync().finally(() => handle.close());
}

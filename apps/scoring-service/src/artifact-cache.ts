import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const SHA256 = /^[0-9a-f]{64}$/;

/** What the follower last knew of the registry, so that a restart can serve with it down. */
export interface CachedState {
  readonly versions: readonly {
    model: string;
    version: string;
    sha256: string;
    sizeBytes: string;
    /** Inputs that accept non-finite values; absent means none. */
    nonFiniteInputs?: readonly string[];
  }[];
  /** model → alias → version. */
  readonly aliases: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/**
 * Downloaded artifacts on disk, content-addressed (`<dir>/sha256/<hex>.onnx`), plus the last known
 * registry state (`<dir>/state.json`). Writes go to a temporary file renamed into place, so a
 * crash never leaves a partial artifact under its digest; reads re-check the digest.
 */
export interface ArtifactCache {
  /** The artifact's bytes when cached and intact; undefined otherwise. */
  get(sha256: string): Promise<Uint8Array | undefined>;
  put(sha256: string, bytes: Uint8Array): Promise<void>;
  readState(): Promise<CachedState | undefined>;
  writeState(state: CachedState): Promise<void>;
}

export const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

export function createArtifactCache(dir: string): ArtifactCache {
  const artifactDir = join(dir, 'sha256');
  const pathOf = (sha256: string) => {
    if (!SHA256.test(sha256)) throw new Error(`not a sha256: ${JSON.stringify(sha256)}`);
    return join(artifactDir, `${sha256}.onnx`);
  };
  let writes = 0;
  async function atomicWrite(path: string, bytes: Uint8Array | string): Promise<void> {
    const temporary = `${path}.${process.pid}.${writes++}.tmp`;
    await writeFile(temporary, bytes);
    await rename(temporary, path);
  }
  return {
    async get(sha256) {
      try {
        const bytes = new Uint8Array(await readFile(pathOf(sha256)));
        return sha256Hex(bytes) === sha256 ? bytes : undefined;
      } catch {
        return undefined;
      }
    },
    async put(sha256, bytes) {
      await mkdir(artifactDir, { recursive: true });
      await atomicWrite(pathOf(sha256), bytes);
    },
    async readState() {
      try {
        return JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')) as CachedState;
      } catch {
        return undefined;
      }
    },
    async writeState(state) {
      await mkdir(dir, { recursive: true });
      await atomicWrite(join(dir, 'state.json'), JSON.stringify(state));
    },
  };
}

import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadOnnxModel, type OnnxModel } from '@scoregate/inference';

const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const VERSION = /^[1-9][0-9]{0,17}$/;

/** A loaded model version. */
export interface LoadedModel {
  readonly name: string;
  readonly version: string;
  readonly model: OnnxModel;
}

/** The models this scoring-service serves, by name and version. */
export interface ModelRepository {
  /** A version of a model; the highest version when `version` is empty. Undefined if unknown. */
  get(name: string, version?: string): LoadedModel | undefined;
  /** Every version of a model, ascending. */
  versions(name: string): string[];
  list(): LoadedModel[];
  release(): Promise<void>;
}

/**
 * Loads every `<dir>/<model>/<version>/model.onnx`. Folders whose names are not valid model names
 * or version numbers are ignored; a model file that fails to load stops the start (an operator
 * must know).
 */
export async function loadModelRepository(
  dir: string,
  options: { intraOpThreads: number },
): Promise<ModelRepository> {
  const byName = new Map<string, Map<string, LoadedModel>>();
  for (const name of readdirSync(dir)
    .filter((n) => NAME.test(n))
    .sort()) {
    const modelDir = join(dir, name);
    let versionNames: string[];
    try {
      versionNames = readdirSync(modelDir).filter((v) => VERSION.test(v));
    } catch {
      continue;
    }
    for (const version of versionNames) {
      const file = join(modelDir, version, 'model.onnx');
      if (!existsSync(file)) continue;
      let model: OnnxModel;
      try {
        model = await loadOnnxModel(file, { intraOpThreads: options.intraOpThreads });
      } catch (error) {
        throw new Error(
          `cannot load model ${name} version ${version} from ${file}: ${(error as Error).message}`,
          { cause: error },
        );
      }
      if (!byName.has(name)) byName.set(name, new Map());
      byName.get(name)?.set(version, { name, version, model });
    }
  }
  const sortedVersions = (name: string) =>
    [...(byName.get(name)?.keys() ?? [])].sort((a, b) => Number(BigInt(a) - BigInt(b)));
  return {
    get(name, version = '') {
      const versions = byName.get(name);
      if (!versions) return undefined;
      if (version !== '') return versions.get(version);
      const latest = sortedVersions(name).at(-1);
      return latest === undefined ? undefined : versions.get(latest);
    },
    versions: sortedVersions,
    list: () => [...byName.values()].flatMap((versions) => [...versions.values()]),
    async release() {
      for (const versions of byName.values())
        for (const loaded of versions.values()) await loaded.model.release();
    },
  };
}

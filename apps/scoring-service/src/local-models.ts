import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadOnnxModel } from '@scoregate/inference';
import type { MicroBatcherOptions } from './micro-batcher.js';
import type { ModelStore } from './model-store.js';
import { isVersionNumber } from './model-versions.js';
import { createServedModel, warmUp } from './served-model.js';

const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/**
 * Local-directory mode: loads every `<dir>/<model>/<version>/model.onnx` into the store (no
 * aliases, so an empty selector serves the highest version). Folders whose names are not valid
 * model names or version numbers are ignored; a model file that fails to load stops the start
 * (an operator must know).
 */
export async function loadLocalModels(
  dir: string,
  store: ModelStore,
  options: { intraOpThreads: number; batching: MicroBatcherOptions },
): Promise<void> {
  for (const name of readdirSync(dir)
    .filter((n) => NAME.test(n))
    .sort()) {
    let versionNames: string[];
    try {
      versionNames = readdirSync(join(dir, name)).filter(isVersionNumber);
    } catch {
      continue;
    }
    for (const version of versionNames) {
      const file = join(dir, name, version, 'model.onnx');
      if (!existsSync(file)) continue;
      try {
        const model = await loadOnnxModel(file, { intraOpThreads: options.intraOpThreads });
        await warmUp(model);
        store.add(createServedModel({ name, version, model, batching: options.batching }));
      } catch (error) {
        throw new Error(
          `cannot load model ${name} version ${version} from ${file}: ${(error as Error).message}`,
          { cause: error },
        );
      }
    }
  }
}

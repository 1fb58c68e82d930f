import { createReadStream } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AliasMoved, Model, Scorer } from '@scoregate/contracts';
import { loadAliasesAndScorers } from './catalogue-file.js';
import { CatalogueError } from './catalogue-json.js';
import { compareVersions, loadManifest, type ModelEntry } from './model-manifest.js';
import type { RegistryReader, RegistrySnapshot } from './registry-reader.js';

export { CatalogueError } from './catalogue-json.js';
export { CATALOGUE_IDENTITY } from './model-manifest.js';

/** The model fixtures of the repository (resolves the same from src/ and dist/). */
export const DEFAULT_MANIFEST_FILE = fileURLToPath(
  new URL('../../../tools/models/fixtures/manifest.json', import.meta.url),
);
/** The demo aliases and scorers shipped with the service. */
export const DEFAULT_CATALOGUE_FILE = fileURLToPath(
  new URL('../demo-catalogue.json', import.meta.url),
);

/** A catalogue never changes after load: its whole state is revision 1. */
const CATALOGUE_REVISION = 1n;

export interface CatalogueOptions {
  /** The model manifest (tools/models/fixtures/manifest.json format); artifacts are read relative to its directory. */
  readonly manifestFile?: string;
  /** Aliases and scorers (apps/registry-service/demo-catalogue.json format). */
  readonly catalogueFile?: string;
}

/** A read-only registry, loaded once from a model manifest and a catalogue file. */
export interface Catalogue extends RegistryReader {
  readonly manifestFile: string;
  readonly catalogueFile: string;
  readonly revision: bigint;
}

/**
 * Loads and validates the manifest and the catalogue file. Every artifact is checked against the
 * manifest's size and sha256, every alias must point at an existing version, and every scorer must
 * pass the checks of RegistryService.PutScorer against the manifest's models (feature views
 * aside). Throws a {@link CatalogueError} naming the file and the first bad entry.
 */
export async function loadCatalogue(options: CatalogueOptions = {}): Promise<Catalogue> {
  const manifestFile = path.resolve(options.manifestFile ?? DEFAULT_MANIFEST_FILE);
  const catalogueFile = path.resolve(options.catalogueFile ?? DEFAULT_CATALOGUE_FILE);
  const models = await loadManifest(manifestFile);
  const { aliases, scorers } = await loadAliasesAndScorers(catalogueFile, manifestFile, models);
  return createCatalogue(manifestFile, catalogueFile, models, aliases, scorers);
}

function createCatalogue(
  manifestFile: string,
  catalogueFile: string,
  models: Map<string, ModelEntry>,
  aliases: readonly AliasMoved[],
  scorers: Map<string, Scorer>,
): Catalogue {
  const byName = <T>(entries: Iterable<[string, T]>) =>
    [...entries].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, v]) => v);
  const modelList = byName(
    [...models].map(([name, entry]) => [name, entry.model] as [string, Model]),
  );
  const scorerList = byName(scorers);
  const newestFirst = (entry: ModelEntry) =>
    [...entry.versions.values()].sort((a, b) => compareVersions(b.version, a.version));
  const snapshot: RegistrySnapshot = {
    revision: CATALOGUE_REVISION,
    versions: modelList.flatMap((model) => newestFirst(models.get(model.name)!).reverse()),
    aliases,
    scorers: scorerList,
  };
  return {
    manifestFile,
    catalogueFile,
    revision: CATALOGUE_REVISION,
    source: `${manifestFile} and ${catalogueFile}`,
    listModels: async () => modelList,
    getModel: async (name) => models.get(name)?.model,
    listVersions: async (model) => {
      const entry = models.get(model);
      return entry && newestFirst(entry);
    },
    getVersion: async (model, version) => models.get(model)?.versions.get(version),
    listScorers: async () => scorerList,
    getScorer: async (name) => scorers.get(name),
    snapshot: async () => snapshot,
    readArtifact: (model, version, chunkBytes) => {
      const file = models.get(model)?.artifacts.get(version);
      if (file === undefined)
        throw new CatalogueError(`model "${model}" has no version "${version}"`);
      return createReadStream(file, { highWaterMark: chunkBytes });
    },
  };
}

import { create } from '@bufbuild/protobuf';
import { UploadHeaderSchema } from '@scoregate/contracts';
import { CATALOGUE_IDENTITY, type Catalogue } from './catalogue.js';
import type { RegistryStore } from './store/registry-store.js';
import type { VersionIntake } from './version-intake.js';

export interface ImportSummary {
  readonly versions: number;
  readonly aliases: number;
  readonly scorers: number;
}

/**
 * Fills an empty registry from a loaded catalogue (the embedded default of `npm start`): each
 * version goes through the checks of an upload (size, digest, external data) and gets the
 * catalogue's version number, then the aliases are set and the scorers put. The models are not
 * loaded in onnxruntime here (see IngestOptions.loadCheck).
 */
export async function importCatalogue(
  catalogue: Catalogue,
  store: RegistryStore,
  intake: VersionIntake,
  signal: AbortSignal = new AbortController().signal,
): Promise<ImportSummary> {
  const { versions, aliases, scorers } = await catalogue.snapshot();
  for (const version of versions) {
    const header = create(UploadHeaderSchema, {
      model: version.model,
      sha256: version.sha256,
      sizeBytes: version.sizeBytes,
      ...(version.spec ? { spec: version.spec } : {}),
      registeredBy: CATALOGUE_IDENTITY,
    });
    const chunks = catalogue.readArtifact(version.model, version.version, 1024 * 1024);
    const registered = await intake.ingest(header, chunks, signal, { loadCheck: false });
    if (registered.version.version !== version.version) {
      throw new Error(
        `${catalogue.source}: ${version.model} version ${version.version} was registered as version ${registered.version.version}; list a model's versions from 1 without gaps`,
      );
    }
  }
  for (const alias of aliases) {
    await store.setAlias({
      model: alias.model,
      alias: alias.alias,
      version: alias.toVersion,
      reason: alias.reason,
      movedBy: alias.movedBy,
    });
  }
  for (const scorer of scorers) await store.putScorer(scorer);
  return { versions: versions.length, aliases: aliases.length, scorers: scorers.length };
}

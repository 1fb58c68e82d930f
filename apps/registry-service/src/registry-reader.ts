import type { AliasMoved, Model, ModelVersion, Scorer } from '@scoregate/contracts';

/** Everything a Watch client needs to rebuild the registry's state, taken at one revision. */
export interface RegistrySnapshot {
  readonly revision: bigint;
  /** Every version, by model name then version number. */
  readonly versions: readonly ModelVersion[];
  /** Every alias, as a move with an empty from_version, by model then alias. */
  readonly aliases: readonly AliasMoved[];
  /** Every scorer, by name. */
  readonly scorers: readonly Scorer[];
}

/**
 * A read-only registry: what the catalogue loader offers (the demo catalogue is imported into the
 * persistent store from it, see catalogue-import.ts). The service itself serves a RegistryStore.
 */
export interface RegistryReader {
  /** Where the data comes from, for people: used in log lines and error messages. */
  readonly source: string;
  /** Every model, sorted by name. */
  listModels(): Promise<readonly Model[]>;
  getModel(name: string): Promise<Model | undefined>;
  /** A model's versions, newest first; undefined when the model does not exist. */
  listVersions(model: string): Promise<readonly ModelVersion[] | undefined>;
  getVersion(model: string, version: string): Promise<ModelVersion | undefined>;
  /** Every scorer, sorted by name. */
  listScorers(): Promise<readonly Scorer[]>;
  getScorer(name: string): Promise<Scorer | undefined>;
  snapshot(): Promise<RegistrySnapshot>;
  /** The artifact's bytes, in chunks of at most `chunkBytes`. The caller checks size and digest. */
  readArtifact(model: string, version: string, chunkBytes: number): AsyncIterable<Uint8Array>;
}

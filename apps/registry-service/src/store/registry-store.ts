import { EventEmitter } from 'node:events';
import type {
  AliasDeleted,
  AliasMoved,
  Model,
  ModelVersion,
  ModelVersionSpec,
  Scorer,
  WatchResponse,
} from '@scoregate/contracts';
import type { FeatureViews } from '../feature-views.js';
import { createAliasOperations } from './aliases.js';
import { createChangeLogReads } from './change-log.js';
import { migrate } from './migrations.js';
import { createModelVersionOperations } from './model-versions.js';
import { createScorerOperations } from './scorers.js';
import type { SqlDatabase } from './sql-database.js';
import type { StoreContext } from './store-context.js';
import { createWrite } from './write-transaction.js';

/** A page of a list: at most `limit` items after the `after` key (exclusive). */
export interface PageRequest {
  readonly limit: number;
  readonly after?: string;
}

export interface Page<T> {
  readonly items: T[];
  /** The key to pass as `after` for the next page; undefined on the last page. */
  readonly next?: string;
}

export interface RegisterVersionInput {
  readonly model: string;
  readonly modelDescription: string;
  readonly sha256: string;
  readonly sizeBytes: bigint;
  readonly spec: ModelVersionSpec;
  readonly registeredBy: string;
  /**
   * Puts the verified artifact in its final place; runs inside the transaction, after the version
   * number was allocated. Returns what undoes it if the transaction then fails.
   */
  readonly placeArtifact: () => Promise<() => Promise<void>>;
}

export interface SetAliasInput {
  readonly model: string;
  readonly alias: string;
  readonly version: string;
  readonly reason: string;
  /** Compare-and-set: the alias's current version, '' = must not exist; undefined = unconditional. */
  readonly expectedVersion?: string;
  readonly movedBy: string;
}

export interface DeleteAliasInput {
  readonly model: string;
  readonly alias: string;
  readonly reason: string;
  readonly expectedVersion?: string;
  readonly deletedBy: string;
}

/** What Watch needs to rebuild the state, read in one transaction. */
export interface StoreSnapshot {
  readonly revision: bigint;
  readonly versions: ModelVersion[];
  readonly aliases: AliasMoved[];
  readonly scorers: Scorer[];
}

/**
 * The registry's metadata: models, immutable versions, aliases with their history, scorers, and
 * a change log. Every change runs in one transaction that also appends it to the change log with
 * the next registry revision (strictly +1 per change), so the log and the state never disagree.
 * Write transactions are serialized (the revision row is the lock), which makes version numbers
 * and alias compare-and-set safe between concurrent writers, also across processes.
 */
export interface RegistryStore {
  readonly dialect: SqlDatabase['dialect'];
  /** Where the metadata lives, for logs. */
  readonly location: string;
  revision(): Promise<bigint>;
  listModels(page: PageRequest): Promise<Page<Model>>;
  getModel(name: string): Promise<Model | undefined>;
  /** Newest first; undefined when the model does not exist. */
  listVersions(model: string, page: PageRequest): Promise<Page<ModelVersion> | undefined>;
  getVersion(model: string, version: string): Promise<ModelVersion | undefined>;
  /** Every version of every model with this artifact digest. */
  versionsWithSha256(sha256: string): Promise<ModelVersion[]>;
  /** Every artifact digest referenced by a version. */
  artifactDigests(): Promise<Set<string>>;
  /**
   * Runs `work` with the digests every committed version references, while holding the write
   * lock: no writer (of any process) is between placing an artifact and committing its row, so an
   * artifact missing from the set is an orphan.
   */
  withReferencedDigests<T>(work: (referenced: Set<string>) => Promise<T>): Promise<T>;
  registerVersion(
    input: RegisterVersionInput,
  ): Promise<{ version: ModelVersion; revision: bigint; alreadyExisted: boolean }>;
  setAlias(input: SetAliasInput): Promise<{ moved: AliasMoved; revision: bigint }>;
  deleteAlias(input: DeleteAliasInput): Promise<{ deleted: AliasDeleted; revision: bigint }>;
  /** Moves newest first; a deletion has an empty to_version. `after` is a revision. */
  aliasHistory(model: string, alias: string, page: PageRequest): Promise<Page<AliasMoved>>;
  listScorers(page: PageRequest): Promise<Page<Scorer>>;
  getScorer(name: string): Promise<Scorer | undefined>;
  /**
   * Checks the scorer's fields, then its references against the state it commits on (the rules
   * of scorer-rules.ts).
   */
  putScorer(scorer: Scorer): Promise<{ scorer: Scorer; revision: bigint }>;
  deleteScorer(name: string): Promise<bigint>;
  snapshot(): Promise<StoreSnapshot>;
  /**
   * The changes after `revision`, oldest first, at most `limit`; `complete: false` when the log no
   * longer holds every change after `revision` (it was trimmed), so the caller needs a snapshot.
   */
  changesAfter(
    revision: bigint,
    limit: number,
  ): Promise<{ changes: WatchResponse[]; complete: boolean }>;
  /** The last revision a follower of the change log (e.g. the Kafka relay) finished; 0 if none. */
  followerPosition(name: string): Promise<bigint>;
  setFollowerPosition(name: string, revision: bigint): Promise<void>;
  /** Called after each commit made through this store (not by other processes). */
  onCommit(listener: (revision: bigint) => void): () => void;
  close(): Promise<void>;
}

export interface RegistryStoreOptions {
  /** Changes kept in the log for watchers that reconnect; older ones are trimmed. */
  readonly changeLogRetention?: number;
  /** Clock, in epoch milliseconds. */
  readonly now?: () => number;
  /** The feature views scorers' contracts are checked against; unchecked when absent. */
  readonly featureViews?: FeatureViews;
}

/** Opens a store on a database and brings its schema up to date. */
export async function createRegistryStore(
  db: SqlDatabase,
  options: RegistryStoreOptions = {},
): Promise<RegistryStore> {
  await migrate(db);
  const now = options.now ?? Date.now;
  const commits = new EventEmitter();
  commits.setMaxListeners(0);
  const write = createWrite(db, {
    retention: BigInt(options.changeLogRetention ?? 100_000),
    now,
    committed: (revision) => commits.emit('commit', revision),
  });
  const ctx: StoreContext = { db, write, now, featureViews: options.featureViews };
  return {
    dialect: db.dialect,
    location: db.location,
    ...createChangeLogReads(db),
    ...createModelVersionOperations(ctx),
    ...createAliasOperations(ctx),
    ...createScorerOperations(ctx),
    onCommit(listener) {
      commits.on('commit', listener);
      return () => commits.off('commit', listener);
    },
    close: () => db.close(),
  };
}

import { EventEmitter } from 'node:events';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import {
  AliasDeletedSchema,
  AliasMovedSchema,
  ModelSchema,
  ModelVersionSchema,
  ModelVersionSpecSchema,
  ScorerSchema,
  WatchResponseSchema,
  type AliasDeleted,
  type AliasMoved,
  type Model,
  type ModelVersion,
  type ModelVersionSpec,
  type Scorer,
  type WatchResponse,
} from '@scoregate/contracts';
import { Code, RpcError } from '@scoregate/rpc';
import type { FeatureViews } from '../feature-views.js';
import { checkScorerReferences, type VersionLookup } from '../scorer-rules.js';
import { migrate } from './migrations.js';
import {
  isTransientConflict,
  isUniqueViolation,
  toBigInt,
  toBytes,
  toNumber,
  type SqlDatabase,
  type SqlExecutor,
  type SqlRow,
} from './sql-database.js';

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
  /** Validates the scorer's references against the state it commits on. */
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

const MAX_WRITE_ATTEMPTS = 5;

/** Opens a store on a database and brings its schema up to date. */
export async function createRegistryStore(
  db: SqlDatabase,
  options: RegistryStoreOptions = {},
): Promise<RegistryStore> {
  await migrate(db);
  const retention = BigInt(options.changeLogRetention ?? 100_000);
  const now = options.now ?? Date.now;
  const commits = new EventEmitter();
  commits.setMaxListeners(0);
  const lock = db.dialect === 'postgres' ? ' FOR UPDATE' : '';

  /**
   * One write: takes the revision lock, runs `work`, and if work recorded changes, appends them
   * to the log and advances the revision, all in the transaction. Retried when a concurrent
   * writer won a unique constraint or a transient conflict.
   */
  async function write<T>(
    work: (tx: SqlExecutor, log: ChangeLog) => Promise<T>,
  ): Promise<{ result: T; revision: bigint }> {
    for (let attempt = 1; ; attempt++) {
      try {
        const outcome = await db.transaction(async (tx) => {
          const [row] = await tx.query(
            `SELECT revision FROM registry_revision WHERE id = 1${lock}`,
          );
          const log = new ChangeLog(toBigInt(row?.['revision']));
          const result = await work(tx, log);
          if (log.pending.length > 0) {
            for (const change of log.pending) {
              await tx.query(
                'INSERT INTO changes (revision, kind, body, changed_at) VALUES ($1, $2, $3, $4)',
                [
                  change.revision,
                  change.change.case ?? '',
                  toBinary(WatchResponseSchema, change),
                  now(),
                ],
              );
            }
            await tx.query('UPDATE registry_revision SET revision = $1 WHERE id = 1', [
              log.revision,
            ]);
            await tx.query('DELETE FROM changes WHERE revision <= $1', [log.revision - retention]);
          }
          return { result, revision: log.revision, changed: log.pending.length > 0 };
        });
        if (outcome.changed) commits.emit('commit', outcome.revision);
        return outcome;
      } catch (error) {
        if (
          attempt < MAX_WRITE_ATTEMPTS &&
          (isUniqueViolation(error) || isTransientConflict(error))
        )
          continue;
        throw error;
      }
    }
  }

  async function modelOf(q: SqlExecutor, row: SqlRow): Promise<Model> {
    const name = String(row['name']);
    const aliases = await q.query(
      'SELECT alias, version FROM aliases WHERE model = $1 ORDER BY alias',
      [name],
    );
    const [latest] = await q.query(
      'SELECT MAX(version) AS v FROM model_versions WHERE model = $1',
      [name],
    );
    return create(ModelSchema, {
      name,
      description: String(row['description']),
      createdAt: timestampFromMs(toNumber(row['created_at'])),
      latestVersion: latest?.['v'] == null ? '' : String(toBigInt(latest['v'])),
      aliases: Object.fromEntries(
        aliases.map((a) => [String(a['alias']), String(toBigInt(a['version']))]),
      ),
    });
  }

  const versionOf = (row: SqlRow): ModelVersion =>
    create(ModelVersionSchema, {
      model: String(row['model']),
      version: String(toBigInt(row['version'])),
      sha256: String(row['sha256']),
      sizeBytes: toBigInt(row['size_bytes']),
      spec: fromBinary(ModelVersionSpecSchema, toBytes(row['spec'])),
      registeredBy: String(row['registered_by']),
      registeredAt: timestampFromMs(toNumber(row['registered_at'])),
    });

  const aliasOf = (row: SqlRow): AliasMoved =>
    create(AliasMovedSchema, {
      model: String(row['model']),
      alias: String(row['alias']),
      fromVersion: '',
      toVersion: String(toBigInt(row['version'])),
      reason: String(row['reason']),
      movedBy: String(row['moved_by']),
      movedAt: timestampFromMs(toNumber(row['moved_at'])),
    });

  const scorerOf = (row: SqlRow): Scorer => fromBinary(ScorerSchema, toBytes(row['body']));

  async function getVersionIn(q: SqlExecutor, model: string, version: string) {
    const [row] = await q.query('SELECT * FROM model_versions WHERE model = $1 AND version = $2', [
      model,
      BigInt(version),
    ]);
    return row && versionOf(row);
  }

  async function aliasRow(q: SqlExecutor, model: string, alias: string) {
    const [row] = await q.query('SELECT * FROM aliases WHERE model = $1 AND alias = $2', [
      model,
      alias,
    ]);
    return row;
  }

  async function modelExists(q: SqlExecutor, model: string): Promise<boolean> {
    return (await q.query('SELECT 1 AS one FROM models WHERE name = $1', [model])).length > 0;
  }

  const lookupIn =
    (q: SqlExecutor): VersionLookup =>
    async (model, alias) => {
      if (!(await modelExists(q, model))) return { model: false };
      const row = await aliasRow(q, model, alias);
      if (row === undefined) {
        const all = await q.query('SELECT alias FROM aliases WHERE model = $1 ORDER BY alias', [
          model,
        ]);
        return { model: true, aliases: all.map((a) => String(a['alias'])) };
      }
      return {
        model: true,
        aliases: [],
        version: await getVersionIn(q, model, String(toBigInt(row['version']))),
      };
    };

  function page<T>(rows: T[], limit: number, keyOf: (item: T) => string): Page<T> {
    if (rows.length <= limit) return { items: rows };
    const items = rows.slice(0, limit);
    return { items, next: keyOf(items[items.length - 1]!) };
  }

  return {
    dialect: db.dialect,
    location: db.location,

    async revision() {
      const [row] = await db.query('SELECT revision FROM registry_revision WHERE id = 1');
      return toBigInt(row?.['revision']);
    },

    async listModels({ limit, after }) {
      const rows = await db.query('SELECT * FROM models WHERE name > $1 ORDER BY name LIMIT $2', [
        after ?? '',
        limit + 1,
      ]);
      const models = await Promise.all(rows.map((row) => modelOf(db, row)));
      return page(models, limit, (m) => m.name);
    },

    async getModel(name) {
      const [row] = await db.query('SELECT * FROM models WHERE name = $1', [name]);
      return row && modelOf(db, row);
    },

    async listVersions(model, { limit, after }) {
      if (!(await modelExists(db, model))) return undefined;
      const rows = await db.query(
        'SELECT * FROM model_versions WHERE model = $1 AND version < $2 ORDER BY version DESC LIMIT $3',
        [model, after === undefined ? BigInt(Number.MAX_SAFE_INTEGER) : BigInt(after), limit + 1],
      );
      return page(rows.map(versionOf), limit, (v) => v.version);
    },

    getVersion: (model, version) => getVersionIn(db, model, version),

    async versionsWithSha256(sha256) {
      const rows = await db.query(
        'SELECT * FROM model_versions WHERE sha256 = $1 ORDER BY model, version',
        [sha256],
      );
      return rows.map(versionOf);
    },

    async artifactDigests() {
      const rows = await db.query('SELECT DISTINCT sha256 FROM model_versions');
      return new Set(rows.map((row) => String(row['sha256'])));
    },

    async withReferencedDigests(work) {
      const { result } = await write(async (tx) => {
        const rows = await tx.query('SELECT DISTINCT sha256 FROM model_versions');
        return work(new Set(rows.map((row) => String(row['sha256']))));
      });
      return result;
    },

    async registerVersion(input) {
      let undo: (() => Promise<void>) | undefined;
      try {
        const { result, revision } = await write(async (tx, log) => {
          const [existing] = await tx.query(
            'SELECT * FROM model_versions WHERE model = $1 AND sha256 = $2',
            [input.model, input.sha256],
          );
          if (existing) return { version: versionOf(existing), alreadyExisted: true };
          const at = now();
          if (!(await modelExists(tx, input.model))) {
            await tx.query(
              'INSERT INTO models (name, description, created_at) VALUES ($1, $2, $3)',
              [input.model, input.modelDescription, at],
            );
          }
          const [next] = await tx.query(
            'SELECT COALESCE(MAX(version), 0) + 1 AS v FROM model_versions WHERE model = $1',
            [input.model],
          );
          const version = create(ModelVersionSchema, {
            model: input.model,
            version: String(toBigInt(next?.['v'])),
            sha256: input.sha256,
            sizeBytes: input.sizeBytes,
            spec: input.spec,
            registeredBy: input.registeredBy,
            registeredAt: timestampFromMs(at),
          });
          // The unique (model, version) constraint refuses a number taken concurrently; write() retries.
          await tx.query(
            `INSERT INTO model_versions (model, version, sha256, size_bytes, spec, registered_by, registered_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)`,
            [
              version.model,
              BigInt(version.version),
              version.sha256,
              version.sizeBytes,
              toBinary(ModelVersionSpecSchema, input.spec),
              version.registeredBy,
              at,
            ],
          );
          log.append({ case: 'versionRegistered', value: version });
          undo = await input.placeArtifact();
          return { version, alreadyExisted: false };
        });
        return { ...result, revision };
      } catch (error) {
        await undo?.();
        throw error;
      }
    },

    async setAlias(input) {
      const { result, revision } = await write(async (tx, log) => {
        if (!(await modelExists(tx, input.model)))
          throw RpcError.notFound(`model "${input.model}" not found`);
        if ((await getVersionIn(tx, input.model, input.version)) === undefined)
          throw RpcError.notFound(`model "${input.model}" has no version "${input.version}"`);
        const current = await aliasRow(tx, input.model, input.alias);
        const from = current === undefined ? '' : String(toBigInt(current['version']));
        if (input.expectedVersion !== undefined && input.expectedVersion !== from) {
          throw new RpcError(
            Code.FAILED_PRECONDITION,
            `alias "${input.alias}" of model "${input.model}" points at ${from === '' ? 'nothing (it does not exist)' : `version ${from}`}, not at ${input.expectedVersion === '' ? 'nothing' : `version ${input.expectedVersion}`} as expected_version requires; nothing changed`,
          );
        }
        const at = now();
        const moved = create(AliasMovedSchema, {
          model: input.model,
          alias: input.alias,
          fromVersion: from,
          toVersion: input.version,
          reason: input.reason,
          movedBy: input.movedBy,
          movedAt: timestampFromMs(at),
        });
        if (from === input.version) {
          // Already there: nothing changes, so nothing is logged.
          moved.reason = String(current!['reason']);
          moved.movedBy = String(current!['moved_by']);
          moved.movedAt = timestampFromMs(toNumber(current!['moved_at']));
          return moved;
        }
        const params = [
          input.model,
          input.alias,
          BigInt(input.version),
          input.reason,
          input.movedBy,
          at,
        ];
        await tx.query(
          current === undefined
            ? 'INSERT INTO aliases (model, alias, version, reason, moved_by, moved_at) VALUES ($1, $2, $3, $4, $5, $6)'
            : 'UPDATE aliases SET version = $3, reason = $4, moved_by = $5, moved_at = $6 WHERE model = $1 AND alias = $2',
          params,
        );
        const revision = log.append({ case: 'aliasMoved', value: moved });
        await recordHistory(tx, revision, moved);
        return moved;
      });
      return { moved: result, revision };
    },

    async deleteAlias(input) {
      const { result, revision } = await write(async (tx, log) => {
        if (!(await modelExists(tx, input.model)))
          throw RpcError.notFound(`model "${input.model}" not found`);
        const current = await aliasRow(tx, input.model, input.alias);
        if (current === undefined)
          throw RpcError.notFound(`model "${input.model}" has no alias "${input.alias}"`);
        const version = String(toBigInt(current['version']));
        if (input.expectedVersion !== undefined && input.expectedVersion !== version) {
          throw new RpcError(
            Code.FAILED_PRECONDITION,
            `alias "${input.alias}" of model "${input.model}" points at version ${version}, not at ${input.expectedVersion === '' ? 'nothing' : `version ${input.expectedVersion}`} as expected_version requires; nothing changed`,
          );
        }
        const users = (await tx.query('SELECT body FROM scorers ORDER BY name'))
          .map(scorerOf)
          .filter((s) => scorerUses(s, input.model, input.alias));
        if (users.length > 0) {
          throw new RpcError(
            Code.FAILED_PRECONDITION,
            `alias "${input.alias}" of model "${input.model}" is used by scorer(s) ${users.map((s) => `"${s.name}"`).join(', ')}; change or delete them first`,
          );
        }
        await tx.query('DELETE FROM aliases WHERE model = $1 AND alias = $2', [
          input.model,
          input.alias,
        ]);
        const at = now();
        const deleted = create(AliasDeletedSchema, {
          model: input.model,
          alias: input.alias,
          version,
          reason: input.reason,
          deletedBy: input.deletedBy,
          deletedAt: timestampFromMs(at),
        });
        const revision = log.append({ case: 'aliasDeleted', value: deleted });
        await recordHistory(
          tx,
          revision,
          create(AliasMovedSchema, {
            model: input.model,
            alias: input.alias,
            fromVersion: version,
            toVersion: '',
            reason: input.reason,
            movedBy: input.deletedBy,
            movedAt: deleted.deletedAt,
          }),
        );
        return deleted;
      });
      return { deleted: result, revision };
    },

    async aliasHistory(model, alias, { limit, after }) {
      const before = after === undefined ? BigInt(Number.MAX_SAFE_INTEGER) : BigInt(after);
      const rows = await db.query(
        `SELECT * FROM alias_history WHERE model = $1 AND ($2 = '' OR alias = $2) AND revision < $3
         ORDER BY revision DESC LIMIT $4`,
        [model, alias, before, limit + 1],
      );
      const moves = rows.map((row) => ({
        revision: String(toBigInt(row['revision'])),
        move: create(AliasMovedSchema, {
          model: String(row['model']),
          alias: String(row['alias']),
          fromVersion: String(row['from_version']),
          toVersion: String(row['to_version']),
          reason: String(row['reason']),
          movedBy: String(row['moved_by']),
          movedAt: timestampFromMs(toNumber(row['moved_at'])),
        }),
      }));
      const result = page(moves, limit, (m) => m.revision);
      return {
        items: result.items.map((m) => m.move),
        ...(result.next ? { next: result.next } : {}),
      };
    },

    async listScorers({ limit, after }) {
      const rows = await db.query(
        'SELECT body FROM scorers WHERE name > $1 ORDER BY name LIMIT $2',
        [after ?? '', limit + 1],
      );
      return page(rows.map(scorerOf), limit, (s) => s.name);
    },

    async getScorer(name) {
      const [row] = await db.query('SELECT body FROM scorers WHERE name = $1', [name]);
      return row && scorerOf(row);
    },

    async putScorer(input) {
      const { result, revision } = await write(async (tx, log) => {
        await checkScorerReferences(input, lookupIn(tx), options.featureViews);
        const at = now();
        const scorer = create(ScorerSchema, { ...input, updatedAt: timestampFromMs(at) });
        const body = toBinary(ScorerSchema, scorer);
        const exists =
          (await tx.query('SELECT 1 AS one FROM scorers WHERE name = $1', [scorer.name])).length >
          0;
        await tx.query(
          exists
            ? 'UPDATE scorers SET body = $2, updated_at = $3 WHERE name = $1'
            : 'INSERT INTO scorers (name, body, updated_at) VALUES ($1, $2, $3)',
          [scorer.name, body, at],
        );
        log.append({ case: 'scorerPut', value: scorer });
        return scorer;
      });
      return { scorer: result, revision };
    },

    async deleteScorer(name) {
      const { revision } = await write(async (tx, log) => {
        const removed = await tx.query('DELETE FROM scorers WHERE name = $1 RETURNING name', [
          name,
        ]);
        if (removed.length === 0) throw RpcError.notFound(`scorer "${name}" not found`);
        log.append({ case: 'scorerDeleted', value: name });
      });
      return revision;
    },

    snapshot: () =>
      db.transaction(
        async (tx) => {
          const [row] = await tx.query('SELECT revision FROM registry_revision WHERE id = 1');
          const versions = await tx.query('SELECT * FROM model_versions ORDER BY model, version');
          const aliases = await tx.query('SELECT * FROM aliases ORDER BY model, alias');
          const scorers = await tx.query('SELECT body FROM scorers ORDER BY name');
          return {
            revision: toBigInt(row?.['revision']),
            versions: versions.map(versionOf),
            aliases: aliases.map(aliasOf),
            scorers: scorers.map(scorerOf),
          };
        },
        { readOnly: true },
      ),

    async changesAfter(revision, limit) {
      return db.transaction(
        async (tx) => {
          const [bounds] = await tx.query(
            'SELECT (SELECT revision FROM registry_revision WHERE id = 1) AS current, MIN(revision) AS oldest FROM changes',
          );
          const current = toBigInt(bounds?.['current']);
          const oldest = bounds?.['oldest'] == null ? current + 1n : toBigInt(bounds['oldest']);
          // A revision ahead of this registry's comes from another (or a wiped) database.
          if (revision < oldest - 1n || revision > current) return { changes: [], complete: false };
          const rows = await tx.query(
            'SELECT body FROM changes WHERE revision > $1 ORDER BY revision LIMIT $2',
            [revision, limit],
          );
          return {
            changes: rows.map((row) => fromBinary(WatchResponseSchema, toBytes(row['body']))),
            complete: true,
          };
        },
        { readOnly: true },
      );
    },

    async followerPosition(name) {
      const [row] = await db.query('SELECT revision FROM event_positions WHERE name = $1', [name]);
      return toBigInt(row?.['revision']);
    },

    async setFollowerPosition(name, revision) {
      await db.query(
        `INSERT INTO event_positions (name, revision) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET revision = excluded.revision`,
        [name, revision],
      );
    },

    onCommit(listener) {
      commits.on('commit', listener);
      return () => commits.off('commit', listener);
    },

    close: () => db.close(),
  };
}

/** Changes recorded by one write transaction, numbered from the revision it started at. */
class ChangeLog {
  readonly pending: WatchResponse[] = [];
  constructor(public revision: bigint) {}

  append(change: WatchResponse['change']): bigint {
    this.revision += 1n;
    this.pending.push(create(WatchResponseSchema, { revision: this.revision, change }));
    return this.revision;
  }
}

async function recordHistory(tx: SqlExecutor, revision: bigint, move: AliasMoved): Promise<void> {
  await tx.query(
    `INSERT INTO alias_history (revision, model, alias, from_version, to_version, reason, moved_by, moved_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      revision,
      move.model,
      move.alias,
      move.fromVersion,
      move.toVersion,
      move.reason,
      move.movedBy,
      move.movedAt ? Number(move.movedAt.seconds) * 1000 + Math.floor(move.movedAt.nanos / 1e6) : 0,
    ],
  );
}

function scorerUses(scorer: Scorer, model: string, alias: string): boolean {
  const first = scorer.chain[0]?.model;
  return (
    scorer.chain.some((s) => s.model === model && s.alias === alias) ||
    (scorer.canary?.alias === alias && first === model) ||
    (scorer.shadow?.model === model && scorer.shadow.alias === alias)
  );
}

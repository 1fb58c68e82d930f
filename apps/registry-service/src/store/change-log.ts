import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { WatchResponseSchema, type WatchResponse } from '@scoregate/contracts';
import type { RegistryStore } from './registry-store.js';
import { aliasOf, scorerOf, versionOf } from './registry-rows.js';
import { toBigInt, toBytes, type SqlDatabase, type SqlExecutor } from './sql-database.js';

/** Changes recorded by one write transaction, numbered from the revision it started at. */
export class ChangeLog {
  readonly pending: WatchResponse[] = [];
  constructor(public revision: bigint) {}

  append(change: WatchResponse['change']): bigint {
    this.revision += 1n;
    this.pending.push(create(WatchResponseSchema, { revision: this.revision, change }));
    return this.revision;
  }
}

/** Appends the transaction's changes to the log, advances the revision and trims the log. */
export async function commitChanges(
  tx: SqlExecutor,
  log: ChangeLog,
  options: { readonly retention: bigint; readonly now: () => number },
): Promise<void> {
  for (const change of log.pending) {
    await tx.query(
      'INSERT INTO changes (revision, kind, body, changed_at) VALUES ($1, $2, $3, $4)',
      [
        change.revision,
        change.change.case ?? '',
        toBinary(WatchResponseSchema, change),
        options.now(),
      ],
    );
  }
  await tx.query('UPDATE registry_revision SET revision = $1 WHERE id = 1', [log.revision]);
  await tx.query('DELETE FROM changes WHERE revision <= $1', [log.revision - options.retention]);
}

/** Reading the state and the change log, and the positions of the log's followers. */
export function createChangeLogReads(
  db: SqlDatabase,
): Pick<
  RegistryStore,
  'revision' | 'snapshot' | 'changesAfter' | 'followerPosition' | 'setFollowerPosition'
> {
  return {
    async revision() {
      const [row] = await db.query('SELECT revision FROM registry_revision WHERE id = 1');
      return toBigInt(row?.['revision']);
    },
    snapshot: () => db.transaction(readSnapshot, { readOnly: true }),
    changesAfter: (revision, limit) =>
      db.transaction((tx) => readChangesAfter(tx, revision, limit), { readOnly: true }),
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
  };
}

async function readSnapshot(tx: SqlExecutor) {
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
}

async function readChangesAfter(
  tx: SqlExecutor,
  revision: bigint,
  limit: number,
): Promise<{ changes: WatchResponse[]; complete: boolean }> {
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
}

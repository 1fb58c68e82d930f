import { ChangeLog, commitChanges } from './change-log.js';
import {
  isTransientConflict,
  isUniqueViolation,
  toBigInt,
  type SqlDatabase,
  type SqlExecutor,
} from './sql-database.js';

const MAX_WRITE_ATTEMPTS = 5;

/**
 * One write: takes the revision lock, runs `work`, and if work recorded changes, appends them to
 * the change log and advances the revision, all in the transaction.
 */
export type Write = <T>(
  work: (tx: SqlExecutor, log: ChangeLog) => Promise<T>,
) => Promise<{ result: T; revision: bigint }>;

export interface WriteOptions {
  /** Changes kept in the log; older ones are trimmed by each write. */
  readonly retention: bigint;
  readonly now: () => number;
  /** Called after a commit that recorded changes, with the new revision. */
  readonly committed: (revision: bigint) => void;
}

/**
 * Write transactions are serialized by the revision row (the first statement: SQLite already
 * holds the write lock from BEGIN IMMEDIATE, PostgreSQL locks the row FOR UPDATE), so version
 * numbers and alias compare-and-set are safe between concurrent writers, also across processes.
 * A write is retried when a concurrent writer won a unique constraint or a transient conflict.
 */
export function createWrite(db: SqlDatabase, options: WriteOptions): Write {
  const lock = db.dialect === 'postgres' ? ' FOR UPDATE' : '';
  const attempt = <T>(work: (tx: SqlExecutor, log: ChangeLog) => Promise<T>) =>
    db.transaction(async (tx) => {
      const [row] = await tx.query(`SELECT revision FROM registry_revision WHERE id = 1${lock}`);
      const log = new ChangeLog(toBigInt(row?.['revision']));
      const result = await work(tx, log);
      if (log.pending.length > 0) await commitChanges(tx, log, options);
      return { result, revision: log.revision, changed: log.pending.length > 0 };
    });
  return async (work) => {
    for (let attempts = 1; ; attempts++) {
      try {
        const { result, revision, changed } = await attempt(work);
        if (changed) options.committed(revision);
        return { result, revision };
      } catch (error) {
        if (
          attempts < MAX_WRITE_ATTEMPTS &&
          (isUniqueViolation(error) || isTransientConflict(error))
        )
          continue;
        throw error;
      }
    }
  };
}

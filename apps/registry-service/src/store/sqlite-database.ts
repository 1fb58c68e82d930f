import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { SqlDatabase, SqlExecutor, SqlRow, SqlValue } from './sql-database.js';

export interface SqliteDatabaseOptions {
  /** The database file (its folder is created). */
  readonly file: string;
  /** How long a writer waits for another process's write lock (ms). */
  readonly busyTimeoutMs?: number;
}

/**
 * SQLite through Node's built-in `node:sqlite` (synchronous). One connection per process; an
 * in-process queue runs transactions one after the other, since their statements would otherwise
 * interleave on the shared connection. Across processes, BEGIN IMMEDIATE takes the file's write
 * lock (WAL mode lets readers go on).
 */
export function createSqliteDatabase(options: SqliteDatabaseOptions): SqlDatabase {
  mkdirSync(path.dirname(options.file), { recursive: true });
  const db = new DatabaseSync(options.file, { timeout: options.busyTimeoutMs ?? 10_000 });
  db.exec('PRAGMA journal_mode = WAL');
  // FULL: a commit survives a power loss, not only a killed process.
  db.exec('PRAGMA synchronous = FULL');
  db.exec('PRAGMA foreign_keys = ON');
  const statements = new Map<string, ReturnType<DatabaseSync['prepare']>>();
  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;

  const run = (sql: string, params: readonly SqlValue[] = []): SqlRow[] => {
    if (closed) throw new Error('the registry database is closed');
    // `$n` → `?n`: SQLite's numbered parameters, bound positionally.
    const text = sql.replace(/\$(\d+)/g, '?$1');
    let statement = statements.get(text);
    if (statement === undefined) {
      statement = db.prepare(text);
      statements.set(text, statement);
    }
    const values = params.map((v) => (typeof v === 'boolean' ? (v ? 1 : 0) : v));
    if (statement.columns().length === 0) {
      statement.run(...(values as never[]));
      return [];
    }
    return statement.all(...(values as never[])) as SqlRow[];
  };
  const executor: SqlExecutor = { query: async (sql, params) => run(sql, params) };

  function exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = queue.then(work, work);
    queue = result.catch(() => undefined);
    return result;
  }

  return {
    dialect: 'sqlite',
    location: options.file,
    // Outside a transaction, a statement still waits for the running transaction to finish.
    query: (sql, params) => exclusive(async () => run(sql, params)),
    transaction: (work, transactionOptions) =>
      exclusive(async () => {
        db.exec(transactionOptions?.readOnly ? 'BEGIN DEFERRED' : 'BEGIN IMMEDIATE');
        try {
          const result = await work(executor);
          db.exec('COMMIT');
          return result;
        } catch (error) {
          if (db.isTransaction) db.exec('ROLLBACK');
          throw error;
        }
      }),
    close: () =>
      exclusive(async () => {
        if (closed) return;
        closed = true;
        db.close();
      }),
  };
}

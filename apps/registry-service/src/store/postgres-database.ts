import pg from 'pg';
import type { SqlDatabase, SqlExecutor, SqlRow, SqlValue } from './sql-database.js';

export interface PostgresDatabaseOptions {
  /** `postgres://user:password@host:port/database`. */
  readonly url: string;
  /** Schema holding the registry's tables (created if missing). Default `public`. */
  readonly schema?: string;
  /** Connections in the pool. */
  readonly maxConnections?: number;
}

/** PostgreSQL through `pg`'s pool; every transaction has its own pooled connection. */
export async function createPostgresDatabase(
  options: PostgresDatabaseOptions,
): Promise<SqlDatabase> {
  const schema = options.schema ?? 'public';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema))
    throw new Error(
      `REGISTRY_DATABASE_SCHEMA must be a lower-case SQL identifier (got "${schema}")`,
    );
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.maxConnections ?? 8,
    // Sent in the startup packet, so every pooled connection uses the schema from its first query.
    options: `-c search_path=${schema}`,
  });
  // A connection dropped by the server while idle must not crash the process.
  pool.on('error', () => undefined);
  const client = await pool.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  } finally {
    client.release();
  }
  // int8 as text → parsed by the store as bigint; bytea comes back as a Buffer (a Uint8Array).
  const executorOf = (runner: pg.Pool | pg.PoolClient): SqlExecutor => ({
    async query(sql: string, params: readonly SqlValue[] = []) {
      const result = await runner.query(sql, params as unknown[]);
      return result.rows as SqlRow[];
    },
  });
  const url = new URL(options.url);
  url.password = '';
  return {
    dialect: 'postgres',
    location: `${url.toString()} (schema ${schema})`,
    query: executorOf(pool).query,
    async transaction(work, transactionOptions) {
      const connection = await pool.connect();
      try {
        await connection.query(
          transactionOptions?.readOnly
            ? 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY'
            : 'BEGIN ISOLATION LEVEL READ COMMITTED',
        );
        const result = await work(executorOf(connection));
        await connection.query('COMMIT');
        return result;
      } catch (error) {
        await connection.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        connection.release();
      }
    },
    close: () => pool.end(),
  };
}

import path from 'node:path';
import type { SqlDatabase } from './sql-database.js';

export interface OpenDatabaseOptions {
  /** The registry's data folder; SQLite's file is `<dataDir>/registry.sqlite`. */
  readonly dataDir: string;
  /** PostgreSQL instead of SQLite when set. */
  readonly databaseUrl?: string;
  /** PostgreSQL schema. */
  readonly schema?: string;
}

/** PostgreSQL when a URL is configured, SQLite in the data folder otherwise. */
export async function openRegistryDatabase(options: OpenDatabaseOptions): Promise<SqlDatabase> {
  if (options.databaseUrl !== undefined) {
    // Loaded only when used: the SQLite default starts without the pg driver.
    const { createPostgresDatabase } = await import('./postgres-database.js');
    return createPostgresDatabase({
      url: options.databaseUrl,
      ...(options.schema === undefined ? {} : { schema: options.schema }),
    });
  }
  // Loaded only when used too, so that an entry point's Node version check runs before
  // `node:sqlite` is loaded (an older Node has no such module and cannot load the file).
  const { createSqliteDatabase } = await import('./sqlite-database.js');
  return createSqliteDatabase({ file: path.join(options.dataDir, 'registry.sqlite') });
}

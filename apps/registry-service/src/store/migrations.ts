import type { SqlDatabase } from './sql-database.js';

/** One numbered schema change, in the SQL of one dialect. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  /** Statements run in order, in one transaction. */
  readonly statements: readonly string[];
}

// Integers that count or time things are BIGINT in both dialects (epoch milliseconds for times);
// version specs, scorers and changes are stored as their protobuf binary encoding.
const initial = (blob: string, serial: string): string[] => [
  `CREATE TABLE registry_revision (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     revision BIGINT NOT NULL)`,
  `INSERT INTO registry_revision (id, revision) VALUES (1, 0)`,
  `CREATE TABLE models (
     name TEXT PRIMARY KEY,
     description TEXT NOT NULL,
     created_at BIGINT NOT NULL)`,
  `CREATE TABLE model_versions (
     model TEXT NOT NULL REFERENCES models (name),
     version BIGINT NOT NULL,
     sha256 TEXT NOT NULL,
     size_bytes BIGINT NOT NULL,
     spec ${blob} NOT NULL,
     registered_by TEXT NOT NULL,
     registered_at BIGINT NOT NULL,
     PRIMARY KEY (model, version),
     UNIQUE (model, sha256))`,
  `CREATE INDEX model_versions_sha256 ON model_versions (sha256)`,
  `CREATE TABLE aliases (
     model TEXT NOT NULL,
     alias TEXT NOT NULL,
     version BIGINT NOT NULL,
     reason TEXT NOT NULL,
     moved_by TEXT NOT NULL,
     moved_at BIGINT NOT NULL,
     PRIMARY KEY (model, alias),
     FOREIGN KEY (model, version) REFERENCES model_versions (model, version))`,
  `CREATE TABLE alias_history (
     id ${serial},
     revision BIGINT NOT NULL UNIQUE,
     model TEXT NOT NULL,
     alias TEXT NOT NULL,
     from_version TEXT NOT NULL,
     to_version TEXT NOT NULL,
     reason TEXT NOT NULL,
     moved_by TEXT NOT NULL,
     moved_at BIGINT NOT NULL)`,
  `CREATE INDEX alias_history_model ON alias_history (model, revision)`,
  `CREATE TABLE scorers (
     name TEXT PRIMARY KEY,
     body ${blob} NOT NULL,
     updated_at BIGINT NOT NULL)`,
  `CREATE TABLE changes (
     revision BIGINT PRIMARY KEY,
     kind TEXT NOT NULL,
     body ${blob} NOT NULL,
     changed_at BIGINT NOT NULL)`,
];

/** The schema history, per dialect; append, never edit a released migration. */
export const MIGRATIONS: Readonly<Record<SqlDatabase['dialect'], readonly Migration[]>> = {
  sqlite: [
    {
      version: 1,
      name: 'models, versions, aliases, history, scorers, change log',
      statements: initial('BLOB', 'INTEGER PRIMARY KEY AUTOINCREMENT'),
    },
    {
      version: 2,
      name: 'event publication positions (the Kafka relay follows the change log)',
      statements: [
        `CREATE TABLE event_positions (name TEXT PRIMARY KEY, revision BIGINT NOT NULL)`,
      ],
    },
  ],
  postgres: [
    {
      version: 1,
      name: 'models, versions, aliases, history, scorers, change log',
      statements: initial('BYTEA', 'BIGSERIAL PRIMARY KEY'),
    },
    {
      version: 2,
      name: 'event publication positions (the Kafka relay follows the change log)',
      statements: [
        `CREATE TABLE event_positions (name TEXT PRIMARY KEY, revision BIGINT NOT NULL)`,
      ],
    },
  ],
};

/**
 * Brings the schema to the newest migration. Applied migrations are recorded in
 * `schema_migrations`; on PostgreSQL an advisory lock keeps two starting registries from
 * migrating at once (SQLite's BEGIN IMMEDIATE does the same). Returns the versions applied.
 */
export async function migrate(
  db: SqlDatabase,
  migrations: readonly Migration[] = MIGRATIONS[db.dialect],
): Promise<number[]> {
  return db.transaction(async (tx) => {
    if (db.dialect === 'postgres')
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.registry'))`);
    await tx.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         version INTEGER PRIMARY KEY,
         name TEXT NOT NULL,
         applied_at BIGINT NOT NULL)`,
    );
    const rows = await tx.query('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((row) => Number(row['version'])));
    const known = Math.max(0, ...migrations.map((m) => m.version));
    const newest = Math.max(0, ...applied);
    if (newest > known) {
      throw new Error(
        `the registry database ${db.location} has schema version ${newest}, newer than this registry-service knows (${known}); run a newer registry-service`,
      );
    }
    const done: number[] = [];
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (applied.has(migration.version)) continue;
      for (const statement of migration.statements) await tx.query(statement);
      await tx.query(
        'INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)',
        [migration.version, migration.name, Date.now()],
      );
      done.push(migration.version);
    }
    return done;
  });
}

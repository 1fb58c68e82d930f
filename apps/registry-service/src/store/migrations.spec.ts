import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, migrate } from './migrations.js';
import { createSqliteDatabase } from './sqlite-database.js';

const dirs: string[] = [];
afterEach(async () => {
  while (dirs.length > 0) await rm(dirs.pop()!, { recursive: true, force: true });
});

async function database() {
  const dir = await mkdtemp(path.join(tmpdir(), 'registry-migrations-'));
  dirs.push(dir);
  return createSqliteDatabase({ file: path.join(dir, 'registry.sqlite') });
}

describe('schema migrations', () => {
  it('applies every numbered migration once and records it', async () => {
    const db = await database();
    const versions = MIGRATIONS.sqlite.map((m) => m.version);
    expect(await migrate(db)).toEqual(versions);
    expect(await migrate(db)).toEqual([]);
    const rows = await db.query('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows.map((r) => Number(r['version']))).toEqual(versions);
    await db.close();
  });

  it('applies only the migrations a database does not have yet', async () => {
    const db = await database();
    expect(await migrate(db, MIGRATIONS.sqlite.slice(0, 1))).toEqual([1]);
    expect(await migrate(db)).toEqual(MIGRATIONS.sqlite.slice(1).map((m) => m.version));
    await db.close();
  });

  it('refuses a database whose schema is newer than this registry knows', async () => {
    const db = await database();
    await migrate(db);
    await db.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, $1, 0)', [
      'from the future',
    ]);
    await expect(migrate(db)).rejects.toThrow(
      /has schema version 99, newer than this registry-service knows \(2\); run a newer registry-service/,
    );
    await db.close();
  });

  it('rolls back a migration that fails, leaving the schema as it was', async () => {
    const db = await database();
    await migrate(db);
    const broken = [
      ...MIGRATIONS.sqlite,
      { version: 3, name: 'broken', statements: ['CREATE TABLE t3 (a INTEGER)', 'NOT SQL'] },
    ];
    await expect(migrate(db, broken)).rejects.toThrow();
    const tables = await db.query(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 't3'",
    );
    expect(tables).toEqual([]);
    const applied = await db.query('SELECT version FROM schema_migrations ORDER BY version');
    expect(applied.map((r) => Number(r['version']))).toEqual([1, 2]);
    await db.close();
  });
});

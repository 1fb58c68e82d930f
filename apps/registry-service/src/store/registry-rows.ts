import { create, fromBinary } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import {
  AliasMovedSchema,
  ModelSchema,
  ModelVersionSchema,
  ModelVersionSpecSchema,
  ScorerSchema,
  type AliasMoved,
  type Model,
  type ModelVersion,
  type Scorer,
} from '@scoregate/contracts';
import type { Page } from './registry-store.js';
import { toBigInt, toBytes, toNumber, type SqlExecutor, type SqlRow } from './sql-database.js';

/** A `models` row with its aliases and latest version. */
export async function modelOf(q: SqlExecutor, row: SqlRow): Promise<Model> {
  const name = String(row['name']);
  const aliases = await q.query(
    'SELECT alias, version FROM aliases WHERE model = $1 ORDER BY alias',
    [name],
  );
  const [latest] = await q.query('SELECT MAX(version) AS v FROM model_versions WHERE model = $1', [
    name,
  ]);
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

export function versionOf(row: SqlRow): ModelVersion {
  return create(ModelVersionSchema, {
    model: String(row['model']),
    version: String(toBigInt(row['version'])),
    sha256: String(row['sha256']),
    sizeBytes: toBigInt(row['size_bytes']),
    spec: fromBinary(ModelVersionSpecSchema, toBytes(row['spec'])),
    registeredBy: String(row['registered_by']),
    registeredAt: timestampFromMs(toNumber(row['registered_at'])),
  });
}

/** An `aliases` row as the move that set it (from nothing). */
export function aliasOf(row: SqlRow): AliasMoved {
  return create(AliasMovedSchema, {
    model: String(row['model']),
    alias: String(row['alias']),
    fromVersion: '',
    toVersion: String(toBigInt(row['version'])),
    reason: String(row['reason']),
    movedBy: String(row['moved_by']),
    movedAt: timestampFromMs(toNumber(row['moved_at'])),
  });
}

export function scorerOf(row: SqlRow): Scorer {
  return fromBinary(ScorerSchema, toBytes(row['body']));
}

export async function getVersionIn(q: SqlExecutor, model: string, version: string) {
  const [row] = await q.query('SELECT * FROM model_versions WHERE model = $1 AND version = $2', [
    model,
    BigInt(version),
  ]);
  return row && versionOf(row);
}

export async function aliasRow(q: SqlExecutor, model: string, alias: string) {
  const [row] = await q.query('SELECT * FROM aliases WHERE model = $1 AND alias = $2', [
    model,
    alias,
  ]);
  return row;
}

export async function modelExists(q: SqlExecutor, model: string): Promise<boolean> {
  return (await q.query('SELECT 1 AS one FROM models WHERE name = $1', [model])).length > 0;
}

/** `rows` read with `limit + 1`: the first `limit`, and the key of the last one when more follow. */
export function page<T>(rows: T[], limit: number, keyOf: (item: T) => string): Page<T> {
  if (rows.length <= limit) return { items: rows };
  const items = rows.slice(0, limit);
  return { items, next: keyOf(items[items.length - 1]!) };
}

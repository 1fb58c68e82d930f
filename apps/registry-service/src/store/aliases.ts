import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import {
  AliasDeletedSchema,
  AliasMovedSchema,
  type AliasMoved,
  type Scorer,
} from '@scoregate/contracts';
import { Code, RpcError } from '@scoregate/rpc';
import type { DeleteAliasInput, RegistryStore, SetAliasInput } from './registry-store.js';
import { aliasRow, getVersionIn, modelExists, page, scorerOf } from './registry-rows.js';
import { toBigInt, toNumber, type SqlDatabase, type SqlExecutor } from './sql-database.js';
import type { StoreContext } from './store-context.js';

/** Aliases: compare-and-set moves and deletions, each kept in the alias history. */
export function createAliasOperations(
  ctx: StoreContext,
): Pick<RegistryStore, 'setAlias' | 'deleteAlias' | 'aliasHistory'> {
  return {
    setAlias: (input) => setAlias(ctx, input),
    deleteAlias: (input) => deleteAlias(ctx, input),
    aliasHistory: (model, alias, request) => aliasHistory(ctx.db, model, alias, request),
  };
}

async function setAlias(ctx: StoreContext, input: SetAliasInput) {
  const { result, revision } = await ctx.write(async (tx, log) => {
    if (!(await modelExists(tx, input.model)))
      throw RpcError.notFound(`model "${input.model}" not found`);
    if ((await getVersionIn(tx, input.model, input.version)) === undefined)
      throw RpcError.notFound(`model "${input.model}" has no version "${input.version}"`);
    const current = await aliasRow(tx, input.model, input.alias);
    const from = current === undefined ? '' : String(toBigInt(current['version']));
    if (input.expectedVersion !== undefined && input.expectedVersion !== from) {
      throw new RpcError(
        Code.FAILED_PRECONDITION,
        `alias "${input.alias}" of model "${input.model}" points at ${from === '' ? 'nothing (it does not exist)' : `version ${from}`}, not at ${expected(input.expectedVersion)} as expected_version requires; nothing changed`,
      );
    }
    const at = ctx.now();
    if (from === input.version) {
      // Already there: nothing changes, so nothing is logged.
      return create(AliasMovedSchema, {
        model: input.model,
        alias: input.alias,
        fromVersion: from,
        toVersion: input.version,
        reason: String(current!['reason']),
        movedBy: String(current!['moved_by']),
        movedAt: timestampFromMs(toNumber(current!['moved_at'])),
      });
    }
    const moved = create(AliasMovedSchema, {
      model: input.model,
      alias: input.alias,
      fromVersion: from,
      toVersion: input.version,
      reason: input.reason,
      movedBy: input.movedBy,
      movedAt: timestampFromMs(at),
    });
    await writeAlias(tx, moved, at, current !== undefined);
    await recordHistory(tx, log.append({ case: 'aliasMoved', value: moved }), moved);
    return moved;
  });
  return { moved: result, revision };
}

async function writeAlias(
  tx: SqlExecutor,
  moved: AliasMoved,
  at: number,
  exists: boolean,
): Promise<void> {
  await tx.query(
    exists
      ? 'UPDATE aliases SET version = $3, reason = $4, moved_by = $5, moved_at = $6 WHERE model = $1 AND alias = $2'
      : 'INSERT INTO aliases (model, alias, version, reason, moved_by, moved_at) VALUES ($1, $2, $3, $4, $5, $6)',
    [moved.model, moved.alias, BigInt(moved.toVersion), moved.reason, moved.movedBy, at],
  );
}

async function deleteAlias(ctx: StoreContext, input: DeleteAliasInput) {
  const { result, revision } = await ctx.write(async (tx, log) => {
    const version = await deletableAlias(tx, input);
    await tx.query('DELETE FROM aliases WHERE model = $1 AND alias = $2', [
      input.model,
      input.alias,
    ]);
    const deleted = create(AliasDeletedSchema, {
      model: input.model,
      alias: input.alias,
      version,
      reason: input.reason,
      deletedBy: input.deletedBy,
      deletedAt: timestampFromMs(ctx.now()),
    });
    const move = create(AliasMovedSchema, {
      model: input.model,
      alias: input.alias,
      fromVersion: version,
      toVersion: '',
      reason: input.reason,
      movedBy: input.deletedBy,
      movedAt: deleted.deletedAt,
    });
    await recordHistory(tx, log.append({ case: 'aliasDeleted', value: deleted }), move);
    return deleted;
  });
  return { deleted: result, revision };
}

/** The version the alias points at, when it exists, matches expected_version and no scorer uses it. */
async function deletableAlias(tx: SqlExecutor, input: DeleteAliasInput): Promise<string> {
  if (!(await modelExists(tx, input.model)))
    throw RpcError.notFound(`model "${input.model}" not found`);
  const current = await aliasRow(tx, input.model, input.alias);
  if (current === undefined)
    throw RpcError.notFound(`model "${input.model}" has no alias "${input.alias}"`);
  const version = String(toBigInt(current['version']));
  if (input.expectedVersion !== undefined && input.expectedVersion !== version) {
    throw new RpcError(
      Code.FAILED_PRECONDITION,
      `alias "${input.alias}" of model "${input.model}" points at version ${version}, not at ${expected(input.expectedVersion)} as expected_version requires; nothing changed`,
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
  return version;
}

async function aliasHistory(
  db: SqlDatabase,
  model: string,
  alias: string,
  { limit, after }: { limit: number; after?: string },
) {
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

function expected(version: string): string {
  return version === '' ? 'nothing' : `version ${version}`;
}

function scorerUses(scorer: Scorer, model: string, alias: string): boolean {
  const first = scorer.chain[0]?.model;
  return (
    scorer.chain.some((s) => s.model === model && s.alias === alias) ||
    (scorer.canary?.alias === alias && first === model) ||
    (scorer.shadow?.model === model && scorer.shadow.alias === alias)
  );
}

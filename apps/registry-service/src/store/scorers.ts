import { create, toBinary } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { ScorerSchema, type Scorer } from '@scoregate/contracts';
import { RpcError } from '@scoregate/rpc';
import { checkScorerFields, checkScorerReferences, type VersionLookup } from '../scorer-rules.js';
import type { RegistryStore } from './registry-store.js';
import { aliasRow, getVersionIn, modelExists, page, scorerOf } from './registry-rows.js';
import { toBigInt, type SqlExecutor } from './sql-database.js';
import type { StoreContext } from './store-context.js';

/** Scorers, each checked against the models, aliases and feature views it refers to. */
export function createScorerOperations(
  ctx: StoreContext,
): Pick<RegistryStore, 'listScorers' | 'getScorer' | 'putScorer' | 'deleteScorer'> {
  const { db, write } = ctx;
  return {
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
    putScorer: (scorer) => putScorer(ctx, scorer),
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
  };
}

async function putScorer(ctx: StoreContext, input: Scorer) {
  checkScorerFields(input);
  const { result, revision } = await ctx.write(async (tx, log) => {
    await checkScorerReferences(input, lookupIn(tx), ctx.featureViews);
    const at = ctx.now();
    const scorer = create(ScorerSchema, { ...input, updatedAt: timestampFromMs(at) });
    const body = toBinary(ScorerSchema, scorer);
    const exists =
      (await tx.query('SELECT 1 AS one FROM scorers WHERE name = $1', [scorer.name])).length > 0;
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
}

/** What a model's alias resolves to, read in the transaction the scorer commits in. */
function lookupIn(q: SqlExecutor): VersionLookup {
  return async (model, alias) => {
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
}

import type { FeatureRowWrite, StoreCallOptions, WriteOutcome } from './feature-store.js';
import type { FeatureViewDefinition } from './feature-views.js';
import type { RedisStoreContext } from './redis-store-connection.js';
import { encodeFeatureValue, entityHashKey, featureField } from './redis-store-layout.js';

/** Rows per script call: one atomic unit, short enough not to hold Redis up. */
const ROWS_PER_SCRIPT = 1000;

/**
 * Writes the rows through the write script (redis-store-scripts.ts), ROWS_PER_SCRIPT rows per
 * call; each call checks the connection first and is bounded by the call's deadline.
 */
export async function writeRows(
  context: RedisStoreContext,
  rows: readonly FeatureRowWrite[],
  call: StoreCallOptions,
): Promise<WriteOutcome> {
  const { connection } = context;
  call.signal?.throwIfAborted();
  connection.ensureConnected();
  let applied = 0;
  let skippedOlder = 0;
  for (let start = 0; start < rows.length; start += ROWS_PER_SCRIPT) {
    const { keys, args } = scriptCall(context, rows.slice(start, start + ROWS_PER_SCRIPT));
    if (start > 0) connection.ensureConnected();
    const [a, s] = await connection.bounded(
      connection.redis.scoregateWriteRows(keys.length, ...keys, ...args),
      call,
      'write',
    );
    applied += a;
    skippedOlder += s;
  }
  return { applied, skippedOlder };
}

/** KEYS and ARGV of one script call, in the layout WRITE_ROWS_LUA reads. */
function scriptCall(context: RedisStoreContext, chunk: readonly FeatureRowWrite[]) {
  const keys: string[] = [];
  const args: (string | Buffer)[] = [String(context.clock())];
  for (const row of chunk) {
    const view = context.catalog.view(row.view);
    if (view === undefined) throw new Error(`unknown view "${row.view}"`);
    keys.push(entityHashKey(context.prefix, row.entity));
    appendRowArgs(args, row, view);
  }
  return { keys, args };
}

function appendRowArgs(
  args: (string | Buffer)[],
  row: FeatureRowWrite,
  view: FeatureViewDefinition,
): void {
  const set: (string | Buffer)[] = [];
  const cleared: string[] = [];
  for (const [feature, value] of row.values) {
    const field = featureField({ view: row.view, feature });
    if (value === undefined) cleared.push(field);
    else set.push(field, encodeFeatureValue(value));
  }
  args.push(
    row.view,
    String(row.eventTimeMs),
    String(view.ttlMs ?? -1),
    String(set.length / 2),
    String(cleared.length),
    ...set,
    ...cleared,
  );
}

import { create, toBinary } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { ModelVersionSchema, ModelVersionSpecSchema } from '@scoregate/contracts';
import type { ChangeLog } from './change-log.js';
import type { RegisterVersionInput, RegistryStore } from './registry-store.js';
import { getVersionIn, modelExists, modelOf, page, versionOf } from './registry-rows.js';
import { toBigInt, type SqlExecutor } from './sql-database.js';
import type { StoreContext } from './store-context.js';

type ModelVersionOperations = Pick<
  RegistryStore,
  | 'listModels'
  | 'getModel'
  | 'listVersions'
  | 'getVersion'
  | 'versionsWithSha256'
  | 'artifactDigests'
  | 'withReferencedDigests'
  | 'registerVersion'
>;

/** Models and their immutable versions. */
export function createModelVersionOperations(ctx: StoreContext): ModelVersionOperations {
  const { db, write } = ctx;
  return {
    async listModels({ limit, after }) {
      const rows = await db.query('SELECT * FROM models WHERE name > $1 ORDER BY name LIMIT $2', [
        after ?? '',
        limit + 1,
      ]);
      const models = await Promise.all(rows.map((row) => modelOf(db, row)));
      return page(models, limit, (m) => m.name);
    },
    async getModel(name) {
      const [row] = await db.query('SELECT * FROM models WHERE name = $1', [name]);
      return row && modelOf(db, row);
    },
    async listVersions(model, { limit, after }) {
      if (!(await modelExists(db, model))) return undefined;
      const rows = await db.query(
        'SELECT * FROM model_versions WHERE model = $1 AND version < $2 ORDER BY version DESC LIMIT $3',
        [model, after === undefined ? BigInt(Number.MAX_SAFE_INTEGER) : BigInt(after), limit + 1],
      );
      return page(rows.map(versionOf), limit, (v) => v.version);
    },
    getVersion: (model, version) => getVersionIn(db, model, version),
    async versionsWithSha256(sha256) {
      const rows = await db.query(
        'SELECT * FROM model_versions WHERE sha256 = $1 ORDER BY model, version',
        [sha256],
      );
      return rows.map(versionOf);
    },
    artifactDigests: () => referencedDigests(db),
    async withReferencedDigests(work) {
      const { result } = await write(async (tx) => work(await referencedDigests(tx)));
      return result;
    },
    registerVersion: (input) => registerVersion(ctx, input),
  };
}

async function referencedDigests(q: SqlExecutor): Promise<Set<string>> {
  const rows = await q.query('SELECT DISTINCT sha256 FROM model_versions');
  return new Set(rows.map((row) => String(row['sha256'])));
}

/**
 * The model's version with this digest if there is one, else the next version number with the
 * artifact placed; the placing is undone if the transaction then fails.
 */
async function registerVersion(ctx: StoreContext, input: RegisterVersionInput) {
  let undo: (() => Promise<void>) | undefined;
  try {
    const { result, revision } = await ctx.write(async (tx, log) => {
      const [existing] = await tx.query(
        'SELECT * FROM model_versions WHERE model = $1 AND sha256 = $2',
        [input.model, input.sha256],
      );
      if (existing) return { version: versionOf(existing), alreadyExisted: true };
      const version = await insertVersion(tx, log, input, ctx.now());
      undo = await input.placeArtifact();
      return { version, alreadyExisted: false };
    });
    return { ...result, revision };
  } catch (error) {
    await undo?.();
    throw error;
  }
}

/** Inserts the model if it is new and its next version, and logs the version. */
async function insertVersion(
  tx: SqlExecutor,
  log: ChangeLog,
  input: RegisterVersionInput,
  at: number,
) {
  if (!(await modelExists(tx, input.model))) {
    await tx.query('INSERT INTO models (name, description, created_at) VALUES ($1, $2, $3)', [
      input.model,
      input.modelDescription,
      at,
    ]);
  }
  const [next] = await tx.query(
    'SELECT COALESCE(MAX(version), 0) + 1 AS v FROM model_versions WHERE model = $1',
    [input.model],
  );
  const version = create(ModelVersionSchema, {
    model: input.model,
    version: String(toBigInt(next?.['v'])),
    sha256: input.sha256,
    sizeBytes: input.sizeBytes,
    spec: input.spec,
    registeredBy: input.registeredBy,
    registeredAt: timestampFromMs(at),
  });
  // The unique (model, version) constraint refuses a number taken concurrently; the write retries.
  await tx.query(
    `INSERT INTO model_versions (model, version, sha256, size_bytes, spec, registered_by, registered_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [
      version.model,
      BigInt(version.version),
      version.sha256,
      version.sizeBytes,
      toBinary(ModelVersionSpecSchema, input.spec),
      version.registeredBy,
      at,
    ],
  );
  log.append({ case: 'versionRegistered', value: version });
  return version;
}

import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ValueType } from '@scoregate/contracts';
import type { FeatureRowWrite, FeatureScalar } from './feature-store.js';
import {
  dtypeName,
  type FeatureCatalog,
  type FeatureDefinition,
  type FeatureViewDefinition,
} from './feature-views.js';

/** The demo entities shared with the model fixtures; FEATURE_SEED_FILE overrides it. */
export const defaultSeedFile = new URL(
  '../../../tools/models/fixtures/demo-entities.json',
  import.meta.url,
);

/** The seed file is unreadable or does not fit the feature views; the message names the entry. */
export class SeedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SeedError';
  }
}

const seedSchema = z.array(
  z.strictObject({
    entityType: z.string().min(1),
    key: z.string().min(1),
    features: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])),
  }),
);

type SeedEntity = z.infer<typeof seedSchema>[number];

/**
 * Reads demo entities (`[{ entityType, key, features: { name: value } }]`) and turns them into
 * one row per view of the entity's type, stamped `eventTimeMs`. Each feature must belong to
 * exactly one view of that entity type, and its value must fit the feature's dtype.
 */
export async function loadSeedRows(
  file: string | URL,
  catalog: FeatureCatalog,
  eventTimeMs: number,
): Promise<FeatureRowWrite[]> {
  const source = typeof file === 'string' ? file : fileURLToPath(file);
  const entities = await readSeedFile(file, source);
  return entities.flatMap((entity, e) => {
    const where = `${source}: [${e}] (${entity.entityType} "${entity.key}")`;
    return [...valuesByView(entity, catalog, where)].map(([view, values]) => ({
      entity: { entityType: entity.entityType, key: entity.key },
      view: view.name,
      values,
      eventTimeMs,
    }));
  });
}

/** The entities of the seed file; a SeedError names the file and the first wrong entry. */
async function readSeedFile(file: string | URL, source: string): Promise<SeedEntity[]> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new SeedError(`${source}: cannot read the seed file (${(error as Error).message})`, {
      cause: error,
    });
  }
  const parsed = seedSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new SeedError(
      `${source}: ${issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}: ${issue.message}`,
    );
  }
  return parsed.data;
}

/** The entity's feature values grouped by the view each feature belongs to. */
function valuesByView(
  entity: SeedEntity,
  catalog: FeatureCatalog,
  where: string,
): Map<FeatureViewDefinition, Map<string, FeatureScalar>> {
  const views = catalog.views.filter((view) => view.entityType === entity.entityType);
  if (views.length === 0)
    throw new SeedError(`${where}: no feature view holds entity type "${entity.entityType}"`);
  const byView = new Map<FeatureViewDefinition, Map<string, FeatureScalar>>();
  for (const [name, raw] of Object.entries(entity.features)) {
    const view = ownerView(views, name, entity.entityType, where);
    const scalar = toScalar(view.feature(name)!, raw);
    if (scalar === undefined) {
      throw new SeedError(
        `${where}: feature "${name}": expected ${dtypeName(view.feature(name)!.dtype)}, got ${JSON.stringify(raw)}`,
      );
    }
    const values = byView.get(view) ?? new Map<string, FeatureScalar>();
    values.set(name, scalar);
    byView.set(view, values);
  }
  return byView;
}

/** The one view among `views` (those of the entity type) that holds feature `name`. */
function ownerView(
  views: readonly FeatureViewDefinition[],
  name: string,
  entityType: string,
  where: string,
): FeatureViewDefinition {
  const owners = views.filter((view) => view.feature(name) !== undefined);
  if (owners.length !== 1) {
    const reason =
      owners.length === 0
        ? 'is in no view'
        : `is ambiguous (views ${owners.map((v) => v.name).join(', ')})`;
    throw new SeedError(`${where}: feature "${name}" ${reason} of entity type "${entityType}"`);
  }
  return owners[0]!;
}

function toScalar(
  feature: FeatureDefinition,
  raw: number | string | boolean,
): FeatureScalar | undefined {
  switch (feature.dtype) {
    case ValueType.DOUBLE:
      return typeof raw === 'number' && Number.isFinite(raw)
        ? { case: 'doubleValue', value: raw }
        : undefined;
    case ValueType.INT64:
      return typeof raw === 'number' && Number.isSafeInteger(raw)
        ? { case: 'int64Value', value: BigInt(raw) }
        : undefined;
    case ValueType.STRING:
      return typeof raw === 'string' ? { case: 'stringValue', value: raw } : undefined;
    case ValueType.BOOL:
      return typeof raw === 'boolean' ? { case: 'boolValue', value: raw } : undefined;
    default:
      return undefined;
  }
}

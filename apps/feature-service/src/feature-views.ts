import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ValueType } from '@scoregate/contracts';
import { NAME_PATTERN } from './feature-ref.js';

/** The versioned definitions shipped with the service; FEATURE_VIEWS_FILE overrides it. */
export const defaultFeatureViewsFile = new URL('../feature-views.json', import.meta.url);

/** One feature of a view. */
export interface FeatureDefinition {
  readonly name: string;
  readonly dtype: ValueType;
  readonly description: string;
}

/** A feature view: one row of features per entity of one entity type. */
export interface FeatureViewDefinition {
  readonly name: string;
  readonly entityType: string;
  readonly version: string;
  readonly description: string;
  /** Values older than this are read as STALE. */
  readonly maxAgeMs: number;
  /** Values older than this are dropped and read as MISSING; undefined = kept forever. */
  readonly ttlMs: number | undefined;
  /** In definition order. */
  readonly features: readonly FeatureDefinition[];
  feature(name: string): FeatureDefinition | undefined;
}

/** Every view the service knows. */
export interface FeatureCatalog {
  /** Sorted by name. */
  readonly views: readonly FeatureViewDefinition[];
  view(name: string): FeatureViewDefinition | undefined;
}

/** The definitions file is unreadable or wrong; the message names the file and the bad entry. */
export class FeatureViewsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FeatureViewsError';
  }
}

const DTYPES = {
  double: ValueType.DOUBLE,
  int64: ValueType.INT64,
  string: ValueType.STRING,
  bool: ValueType.BOOL,
} as const;

/** The name of a value type as written in the definitions file and in error messages. */
export function dtypeName(dtype: ValueType): string {
  for (const [name, value] of Object.entries(DTYPES)) if (value === dtype) return name;
  return 'unspecified';
}

const DURATION_UNITS_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION_PATTERN = /^(\d+)(ms|s|m|h|d)$/;

/** `90s`, `30m`, `24h`, `7d` → milliseconds. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION_PATTERN.exec(text);
  if (!match) return undefined;
  const ms = Number(match[1]) * DURATION_UNITS_MS[match[2] as keyof typeof DURATION_UNITS_MS];
  return Number.isSafeInteger(ms) && ms > 0 ? ms : undefined;
}

const name = z
  .string({ error: 'must be a string' })
  .regex(NAME_PATTERN, 'must match ^[a-z0-9][a-z0-9_-]{0,62}$');
const duration = z
  .string({ error: 'must be a duration such as "24h"' })
  .refine(
    (text) => parseDuration(text) !== undefined,
    'must be a positive duration such as "90s", "30m", "24h" or "7d"',
  );

const fileSchema = z.strictObject({
  views: z
    .array(
      z.strictObject({
        name,
        entityType: name,
        version: z.string({ error: 'must be a string' }).min(1, 'must not be empty'),
        description: z.string().default(''),
        maxAge: duration,
        ttl: duration.optional(),
        features: z
          .array(
            z.strictObject({
              name,
              dtype: z.enum(['double', 'int64', 'string', 'bool'], {
                error: 'must be one of double, int64, string, bool',
              }),
              description: z.string().default(''),
            }),
            { error: 'must be an array' },
          )
          .min(1, 'must list at least one feature'),
      }),
      { error: 'must be an array' },
    )
    .min(1, 'must list at least one view'),
});

/** Reads and validates a definitions file. */
export async function loadFeatureViews(file: string | URL): Promise<FeatureCatalog> {
  const source = typeof file === 'string' ? file : fileURLToPath(file);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new FeatureViewsError(
      `${source}: cannot read the feature views file (${(error as Error).message})`,
      { cause: error },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new FeatureViewsError(`${source}: not valid JSON (${(error as Error).message})`, {
      cause: error,
    });
  }
  return parseFeatureViews(json, source);
}

/** Validates parsed definitions; `source` names them in errors (a file path). */
export function parseFeatureViews(json: unknown, source: string): FeatureCatalog {
  const result = fileSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new FeatureViewsError(`${source}: ${describePath(json, issue.path)}: ${issue.message}`);
  }
  const views: FeatureViewDefinition[] = [];
  const seenViews = new Map<string, number>();
  result.data.views.forEach((view, v) => {
    const fail = (path: PropertyKey[], reason: string): never => {
      throw new FeatureViewsError(
        `${source}: ${describePath(json, ['views', v, ...path])}: ${reason}`,
      );
    };
    const earlier = seenViews.get(view.name);
    if (earlier !== undefined)
      fail(['name'], `duplicate view name "${view.name}" (also views[${earlier}])`);
    seenViews.set(view.name, v);
    const maxAgeMs = parseDuration(view.maxAge)!;
    const ttlMs = view.ttl === undefined ? undefined : parseDuration(view.ttl)!;
    if (ttlMs !== undefined && ttlMs < maxAgeMs)
      fail(['ttl'], `must be at least maxAge (${view.maxAge}), got ${view.ttl}`);
    const features = new Map<string, FeatureDefinition>();
    view.features.forEach((feature, f) => {
      if (features.has(feature.name))
        fail(['features', f, 'name'], `duplicate feature name "${feature.name}"`);
      features.set(feature.name, {
        name: feature.name,
        dtype: DTYPES[feature.dtype],
        description: feature.description,
      });
    });
    views.push({
      name: view.name,
      entityType: view.entityType,
      version: view.version,
      description: view.description,
      maxAgeMs,
      ttlMs,
      features: [...features.values()],
      feature: (featureName) => features.get(featureName),
    });
  });
  views.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const byName = new Map(views.map((view) => [view.name, view]));
  return { views, view: (viewName) => byName.get(viewName) };
}

/** `views[0] ("customer_stats").features[2] ("reboots_24h").dtype`: the path, with entry names. */
function describePath(json: unknown, path: readonly PropertyKey[]): string {
  let text = '';
  let node: unknown = json;
  for (const key of path) {
    node =
      node !== null && typeof node === 'object'
        ? (node as Record<PropertyKey, unknown>)[key]
        : undefined;
    if (typeof key === 'number') {
      text += `[${key}]`;
      const entryName =
        node !== null && typeof node === 'object' ? (node as { name?: unknown }).name : undefined;
      if (typeof entryName === 'string') text += ` ("${entryName}")`;
    } else {
      text += text === '' ? String(key) : `.${String(key)}`;
    }
  }
  return text === '' ? '(root)' : text;
}

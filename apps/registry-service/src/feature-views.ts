import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ValueType } from '@scoregate/contracts';
import { VALUE_TYPE_NAMES, VALUE_TYPES } from './value-types.js';

/** The feature views the feature-service serves (its FEATURE_VIEWS_FILE), read by the registry. */
export const DEFAULT_FEATURE_VIEWS_FILE = fileURLToPath(
  new URL('../../feature-service/feature-views.json', import.meta.url),
);

export interface FeatureViewSummary {
  readonly entityType: string;
  /** Feature name → type. */
  readonly features: ReadonlyMap<string, ValueType>;
}

/** View name → what a scorer check needs of it. */
export type FeatureViews = ReadonlyMap<string, FeatureViewSummary>;

export class FeatureViewsError extends Error {}

/**
 * Reads the view names, entity types and feature types of a feature-views file (the
 * feature-service validates the rest of it).
 */
export async function loadFeatureViews(file: string): Promise<FeatureViews> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new FeatureViewsError(`${file}: cannot read feature views: ${(error as Error).message}`);
  }
  const views = new Map<string, FeatureViewSummary>();
  const list = (json as { views?: unknown }).views;
  if (!Array.isArray(list)) throw new FeatureViewsError(`${file}: views: must be an array`);
  for (const [i, raw] of list.entries()) {
    const view = raw as { name?: unknown; entityType?: unknown; features?: unknown };
    if (
      typeof view.name !== 'string' ||
      typeof view.entityType !== 'string' ||
      !Array.isArray(view.features)
    )
      throw new FeatureViewsError(`${file}: views[${i}]: needs name, entityType and features`);
    const features = new Map<string, ValueType>();
    for (const [j, f] of (view.features as { name?: unknown; dtype?: unknown }[]).entries()) {
      const type = typeof f.dtype === 'string' ? VALUE_TYPES[f.dtype] : undefined;
      if (typeof f.name !== 'string' || type === undefined)
        throw new FeatureViewsError(
          `${file}: views[${i}].features[${j}]: needs a name and a dtype (${VALUE_TYPE_NAMES})`,
        );
      features.set(f.name, type);
    }
    views.set(view.name, { entityType: view.entityType, features });
  }
  return views;
}

const NUMERIC = new Set([ValueType.DOUBLE, ValueType.INT64, ValueType.BOOL]);

/**
 * Whether a view's feature can feed a contract input: the same type, or two numeric types (the
 * scoring path converts numbers to the input tensor's type); strings only feed strings.
 */
export function typesCompatible(feature: ValueType, input: ValueType): boolean {
  return feature === input || (NUMERIC.has(feature) && NUMERIC.has(input));
}

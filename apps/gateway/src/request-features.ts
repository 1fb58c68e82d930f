import type { FeatureValue } from '@scoregate/contracts';
import { RpcError } from '@scoregate/rpc';
import type { ChainModel, Route } from './route-resolver.js';

/** A Scoregate name (common.proto): lower case, digits, `_` and `-`, 1 to 63 bytes. */
export const NAME_PATTERN = '[a-z0-9][a-z0-9_-]{0,62}';
/** A feature ref `view:feature`, or a bare feature name. */
const FEATURE_KEY = new RegExp(`^${NAME_PATTERN}(:${NAME_PATTERN})?$`);
const MAX_REQUEST_FEATURES = 256;
const MAX_STRING_BYTES = 4096;

type RequestFeatures = Readonly<Record<string, FeatureValue>>;

/**
 * The checks that need no route: at most 256 entries, each key a feature ref or a bare feature
 * name, each value set, finite when a double, at most 4096 bytes when a string.
 */
export function validateRequestFeatures(requestFeatures: RequestFeatures, field: string): void {
  const keys = Object.keys(requestFeatures);
  if (keys.length > MAX_REQUEST_FEATURES)
    throw RpcError.invalidArgument(
      field,
      `at most ${MAX_REQUEST_FEATURES} entries, got ${keys.length}`,
    );
  for (const key of keys) {
    const at = `${field}["${key}"]`;
    if (!FEATURE_KEY.test(key))
      throw RpcError.invalidArgument(
        at,
        'is not a feature ref (`view:feature`) nor a feature name',
      );
    checkValue(requestFeatures[key], at);
  }
}

function checkValue(value: FeatureValue | undefined, at: string): void {
  const kind = value?.kind;
  if (kind?.case === undefined) throw RpcError.invalidArgument(at, 'has no value');
  if (kind.case === 'doubleValue' && !Number.isFinite(kind.value))
    throw RpcError.invalidArgument(`${at}.double_value`, `must be finite, got ${kind.value}`);
  if (kind.case === 'stringValue' && Buffer.byteLength(kind.value) > MAX_STRING_BYTES)
    throw RpcError.invalidArgument(`${at}.string_value`, `at most ${MAX_STRING_BYTES} bytes`);
}

/** A route with the models it may also send an entity to (a TableRoute has them). */
type ScorerRoute = Route & {
  readonly canary?: { readonly model: ChainModel } | undefined;
  readonly shadow?: { readonly model: ChainModel } | undefined;
};

/**
 * Every request feature must be an input of some model the scorer may use (its chain, canary or
 * shadow), by ref or by bare name: a feature no model reads would be silently ignored, so it is
 * refused instead, naming it. Skipped while none of the scorer's models is known (nothing to
 * check against; the chain then degrades on its own).
 */
export function checkRequestFeaturesUsed(
  route: ScorerRoute,
  requestFeatures: RequestFeatures,
  field: string,
): void {
  const keys = Object.keys(requestFeatures);
  if (keys.length === 0) return;
  const models = [...route.chain, route.canary?.model, route.shadow?.model].filter(
    (model): model is ChainModel => model !== undefined,
  );
  if (models.length === 0) return;
  const inputs = new Set<string>();
  for (const model of models)
    for (const { ref } of model.contract) inputs.add(ref).add(ref.slice(ref.indexOf(':') + 1));
  for (const key of keys) {
    if (inputs.has(key)) continue;
    throw RpcError.invalidArgument(
      `${field}["${key}"]`,
      `is not an input of any model of scorer "${route.scorer.name}" (its inputs: ${[...inputs]
        .filter((input) => input.includes(':'))
        .sort()
        .join(', ')})`,
    );
  }
}

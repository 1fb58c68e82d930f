import {
  FeatureStatus,
  type FeatureInput,
  type FeatureResult,
  type FeatureValue,
} from '@scoregate/contracts';

/** The input row built for one model from the features at hand. */
export interface FeatureVector {
  /** Values in the model's column order (missing ones 0 — only usable when `missing` is empty). */
  readonly values: Float32Array;
  /** Required features with no value. */
  readonly missing: readonly string[];
  /** Required features whose value is older than its view allows. */
  readonly stale: readonly string[];
}

function numeric(value: FeatureValue | undefined): number | undefined {
  switch (value?.kind.case) {
    case 'doubleValue':
      return value.kind.value;
    case 'int64Value':
      return Number(value.kind.value);
    case 'boolValue':
      return value.kind.value ? 1 : 0;
    default:
      return undefined;
  }
}

/** What the model's input tensor accepts, from its registry spec. */
export interface InputRule {
  /** The input declares `accepts_non_finite`: NaN and infinities may be sent. */
  readonly acceptsNonFinite?: boolean | undefined;
}

/**
 * Builds a model's input row. Request-time features (by ref or bare name) win over stored ones;
 * a feature that is absent, or stale, falls back to its default when it is not required. For a
 * model that accepts finite values only, a value that is not finite once in FP32 (NaN, an
 * infinity, a double beyond ±3.4e38) counts as absent, so the model is skipped rather than
 * sent a value scoring-service refuses; for a model that accepts them, values pass as they are
 * and an optional feature with no value and no default is sent as NaN.
 */
export function buildFeatureVector(
  contract: readonly FeatureInput[],
  stored: ReadonlyMap<string, FeatureResult>,
  requestFeatures: Readonly<Record<string, FeatureValue>>,
  rule: InputRule = {},
): FeatureVector {
  const acceptsNonFinite = rule.acceptsNonFinite === true;
  const usable = (value: FeatureValue | undefined): number | undefined => {
    const n = numeric(value);
    return n === undefined || acceptsNonFinite || Number.isFinite(Math.fround(n)) ? n : undefined;
  };
  const values = new Float32Array(contract.length);
  const missing: string[] = [];
  const stale: string[] = [];
  contract.forEach((input, column) => {
    const bareName = input.ref.slice(input.ref.indexOf(':') + 1);
    const fromRequest = usable(requestFeatures[input.ref] ?? requestFeatures[bareName]);
    if (fromRequest !== undefined) {
      values[column] = fromRequest;
      return;
    }
    const result = stored.get(input.ref);
    const value = usable(result?.value);
    const fallback = usable(input.defaultValue) ?? (acceptsNonFinite ? Number.NaN : undefined);
    if (result?.status === FeatureStatus.OK && value !== undefined) {
      values[column] = value;
    } else if (!input.required && fallback !== undefined) {
      values[column] = fallback;
    } else if (result?.status === FeatureStatus.STALE && value !== undefined) {
      stale.push(input.ref);
    } else {
      missing.push(input.ref);
    }
  });
  return { values, missing, stale };
}

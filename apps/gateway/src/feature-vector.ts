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

/**
 * Builds a model's input row. Request-time features (by ref or bare name) win over stored ones;
 * a feature that is absent, or stale, falls back to its default when it is not required.
 */
export function buildFeatureVector(
  contract: readonly FeatureInput[],
  stored: ReadonlyMap<string, FeatureResult>,
  requestFeatures: Readonly<Record<string, FeatureValue>>,
): FeatureVector {
  const values = new Float32Array(contract.length);
  const missing: string[] = [];
  const stale: string[] = [];
  contract.forEach((input, column) => {
    const bareName = input.ref.slice(input.ref.indexOf(':') + 1);
    const fromRequest = numeric(requestFeatures[input.ref] ?? requestFeatures[bareName]);
    if (fromRequest !== undefined) {
      values[column] = fromRequest;
      return;
    }
    const result = stored.get(input.ref);
    const value = numeric(result?.value);
    const fallback = numeric(input.defaultValue);
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

import { bucketCount, bucketOf, type Bins } from './binning.js';

/** A distribution as a model was trained on it: fixed bins and the share of values in each. */
export interface Distribution {
  readonly bins: Bins;
  /** Share of values per bucket (the bins, then missing); sums to 1. */
  readonly proportions: readonly number[];
}

/** Reference of one input feature. */
export interface FeatureReference extends Distribution {
  readonly name: string;
}

/** What a model version was trained on and how good it was: what live traffic is compared with. */
export interface ReferenceSignature {
  /** The model's inputs, in its contract's order. */
  readonly features: readonly FeatureReference[];
  /** The output score. */
  readonly score: Distribution;
  /** The scorer's decision threshold (score ≥ threshold is 1). */
  readonly threshold: number;
  /** Training (holdout) metrics; the quality decay is measured against these. */
  readonly metrics: {
    readonly auc?: number;
    readonly logLoss?: number;
    readonly brier?: number;
  };
}

/** The missing rate of a distribution: its last bucket. */
export function missingRate(distribution: Distribution): number {
  return distribution.proportions.at(-1) ?? 0;
}

/**
 * A distribution from a sample, with bin edges at its quantiles (`binCount` bins at most; fewer
 * when values repeat), as a trainer records it. Missing values (undefined, NaN) go to the missing
 * bucket. Quantile i/binCount is the value at rank ⌊i·n/binCount⌋ of the sorted present values.
 */
export function distributionOf(
  values: readonly (number | undefined)[],
  binCount = 10,
): Distribution {
  const present = values
    .filter((v): v is number => v !== undefined && !Number.isNaN(v))
    .sort((a, b) => a - b);
  const edges: number[] = [];
  for (let i = 1; i < binCount && present.length > 0; i++) {
    const edge = present[Math.floor((i * present.length) / binCount)]!;
    if (edges.length === 0 || edge > edges.at(-1)!) edges.push(edge);
  }
  const bins = { edges };
  const counts = new Array<number>(bucketCount(bins)).fill(0);
  for (const v of values) counts[bucketOf(bins, v)]!++;
  return { bins, proportions: counts.map((c) => (values.length === 0 ? 0 : c / values.length)) };
}

/**
 * Fixed bins of a reference signature: the interior cut points (ascending, from the training
 * data's quantiles) split the line into `edges.length + 1` bins, plus one bucket for missing
 * values. A value goes to the bin whose lower edge it reaches: bin i holds
 * `edges[i-1] <= value < edges[i]` (numpy's `searchsorted(edges, value, side='right')`).
 */
export interface Bins {
  /** Interior cut points, strictly ascending, finite. */
  readonly edges: readonly number[];
}

/** How many buckets `bins` has: the bins between and around the edges, then the missing one. */
export function bucketCount(bins: Bins): number {
  return bins.edges.length + 2;
}

/** The index of the missing bucket (the last). */
export function missingBucket(bins: Bins): number {
  return bins.edges.length + 1;
}

/** The bucket of `value`: its bin, or the missing bucket for undefined or NaN. */
export function bucketOf(bins: Bins, value: number | undefined): number {
  if (value === undefined || Number.isNaN(value)) return missingBucket(bins);
  const { edges } = bins;
  let low = 0;
  let high = edges.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (edges[mid]! <= value) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** Why `edges` cannot be bins, or undefined when they can. */
export function invalidEdges(edges: readonly number[]): string | undefined {
  for (let i = 0; i < edges.length; i++) {
    if (!Number.isFinite(edges[i])) return `edges[${i}] must be finite, got ${edges[i]}`;
    if (i > 0 && !(edges[i]! > edges[i - 1]!))
      return `edges must be strictly ascending: edges[${i}] = ${edges[i]} after ${edges[i - 1]}`;
  }
  return undefined;
}

/** One scored item with its outcome: the model's score (probability of 1) and the label (0/1). */
export interface Labeled {
  readonly score: number;
  readonly label: 0 | 1;
}

/** Quality of a binary model on a set of labeled items; each figure undefined when it cannot be had. */
export interface Quality {
  readonly samples: number;
  readonly positives: number;
  /** Area under the ROC curve (ties count half); needs both labels. */
  readonly auc: number | undefined;
  /** Mean negative log-likelihood, scores clipped to [ε, 1 − ε] (ε: float64's epsilon, as scikit-learn). */
  readonly logLoss: number | undefined;
  /** Mean squared difference between score and label. */
  readonly brier: number | undefined;
  /** At the decision threshold (score ≥ threshold is 1): FP / (FP + TN) and FN / (FN + TP). */
  readonly falsePositiveRate: number | undefined;
  readonly falseNegativeRate: number | undefined;
}

/**
 * The area under the ROC curve from the rank sum (Mann–Whitney U) with mid-ranks for tied
 * scores: the chance that a random positive scores above a random negative, ties counting half.
 * Equals scikit-learn's `roc_auc_score`. Sorts a copy: O(n log n) time, O(n) memory.
 */
export function areaUnderRoc(items: readonly Labeled[]): number | undefined {
  let positives = 0;
  for (const item of items) positives += item.label;
  const negatives = items.length - positives;
  if (positives === 0 || negatives === 0) return undefined;
  const sorted = [...items].sort((a, b) => a.score - b.score);
  let rankSum = 0;
  for (let i = 0; i < sorted.length;) {
    let j = i;
    let tiedPositives = 0;
    while (j < sorted.length && sorted[j]!.score === sorted[i]!.score)
      tiedPositives += sorted[j++]!.label;
    // Ranks i+1 .. j share their mean.
    rankSum += tiedPositives * ((i + 1 + j) / 2);
    i = j;
  }
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

const EPSILON = Number.EPSILON;

/** Every quality figure of `items` at `threshold`. */
export function qualityOf(items: readonly Labeled[], threshold: number): Quality {
  const n = items.length;
  let positives = 0;
  let logLoss = 0;
  let brier = 0;
  let fp = 0;
  let fn = 0;
  for (const { score, label } of items) {
    positives += label;
    const p = Math.min(Math.max(score, EPSILON), 1 - EPSILON);
    logLoss -= label === 1 ? Math.log(p) : Math.log(1 - p);
    brier += (score - label) ** 2;
    const predicted = score >= threshold ? 1 : 0;
    if (predicted === 1 && label === 0) fp++;
    if (predicted === 0 && label === 1) fn++;
  }
  const negatives = n - positives;
  return {
    samples: n,
    positives,
    auc: areaUnderRoc(items),
    logLoss: n === 0 ? undefined : logLoss / n,
    brier: n === 0 ? undefined : brier / n,
    falsePositiveRate: negatives === 0 ? undefined : fp / negatives,
    falseNegativeRate: positives === 0 ? undefined : fn / positives,
  };
}

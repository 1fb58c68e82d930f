import { describe, expect, it } from 'vitest';
import { bucketCount, bucketOf, invalidEdges, missingBucket } from './binning.js';
import { PSI_FLOOR, populationStabilityIndex } from './psi.js';
import { areaUnderRoc, qualityOf, type Labeled } from './quality.js';
import { BucketWindow, SlidingWindow } from './sliding-window.js';

const labeled = (pairs: [number, 0 | 1][]): Labeled[] =>
  pairs.map(([score, label]) => ({ score, label }));

describe('bins', () => {
  const bins = { edges: [0, 10, 20] };

  it('puts a value in the bin whose lower edge it reaches, and undefined or NaN in the missing bucket', () => {
    expect(bucketCount(bins)).toBe(5);
    expect(
      [-5, 0, 9.99, 10, 19, 20, 1e9, undefined, Number.NaN].map((v) => bucketOf(bins, v)),
    ).toEqual([0, 1, 1, 2, 2, 3, 3, 4, 4]);
    expect(missingBucket(bins)).toBe(4);
    expect(bucketOf({ edges: [] }, 3)).toBe(0);
  });

  it('refuses edges that are not finite and strictly ascending, saying which', () => {
    expect(invalidEdges([1, 2, 3])).toBeUndefined();
    expect(invalidEdges([1, 1])).toBe('edges must be strictly ascending: edges[1] = 1 after 1');
    expect(invalidEdges([0, Number.POSITIVE_INFINITY])).toBe(
      'edges[1] must be finite, got Infinity',
    );
  });
});

describe('populationStabilityIndex', () => {
  it('is 0 for the live distribution equal to the reference, and grows with the shift', () => {
    expect(populationStabilityIndex([0.25, 0.25, 0.5, 0], [25, 25, 50, 0])).toBeCloseTo(0, 12);
    const small = populationStabilityIndex([0.5, 0.5], [55, 45])!;
    const large = populationStabilityIndex([0.5, 0.5], [90, 10])!;
    // By hand: (0.55-0.5)ln(1.1) + (0.45-0.5)ln(0.9)
    expect(small).toBeCloseTo(0.05 * Math.log(1.1) - 0.05 * Math.log(0.9), 15);
    expect(large).toBeGreaterThan(0.25);
  });

  it('floors an empty bin at 1e-4 instead of going infinite, is undefined with no sample, and refuses mismatched buckets', () => {
    const psi = populationStabilityIndex([0.5, 0.5, 0], [50, 0, 50])!;
    const byHand =
      (0.5 - 0.5) * Math.log(1) +
      (PSI_FLOOR - 0.5) * Math.log(PSI_FLOOR / 0.5) +
      (0.5 - PSI_FLOOR) * Math.log(0.5 / PSI_FLOOR);
    expect(psi).toBeCloseTo(byHand, 12);
    expect(populationStabilityIndex([0.5, 0.5], [0, 0])).toBeUndefined();
    expect(() => populationStabilityIndex([1], [1, 2])).toThrow(
      'reference has 1 buckets, live has 2: they must be the same',
    );
  });
});

describe('quality', () => {
  it('computes the AUC as the share of positive-negative pairs ranked right, ties half', () => {
    // Pairs (pos, neg): (0.9,0.1) right, (0.9,0.4) right, (0.4,0.1) right, (0.4,0.4) tie.
    expect(
      areaUnderRoc(
        labeled([
          [0.9, 1],
          [0.4, 1],
          [0.1, 0],
          [0.4, 0],
        ]),
      ),
    ).toBe(3.5 / 4);
    expect(
      areaUnderRoc(
        labeled([
          [0.1, 1],
          [0.9, 0],
        ]),
      ),
    ).toBe(0);
    expect(
      areaUnderRoc(
        labeled([
          [0.3, 1],
          [0.9, 1],
        ]),
      ),
    ).toBeUndefined();
  });

  it('computes log-loss, Brier and the error rates at the threshold, each undefined when it cannot be had', () => {
    const q = qualityOf(
      labeled([
        [0.8, 1],
        [0.3, 0],
        [0.6, 0],
        [0.2, 1],
      ]),
      0.5,
    );
    expect(q.samples).toBe(4);
    expect(q.positives).toBe(2);
    expect(q.logLoss).toBeCloseTo(
      -(Math.log(0.8) + Math.log(0.7) + Math.log(0.4) + Math.log(0.2)) / 4,
      15,
    );
    expect(q.brier).toBeCloseTo((0.04 + 0.09 + 0.36 + 0.64) / 4, 15);
    expect(q.falsePositiveRate).toBe(0.5); // 0.6 of the two negatives
    expect(q.falseNegativeRate).toBe(0.5); // 0.2 of the two positives
    // A score of exactly 0 or 1 that is wrong costs -ln(ε), not infinity.
    expect(qualityOf(labeled([[0, 1]]), 0.5).logLoss).toBeCloseTo(-Math.log(Number.EPSILON), 9);
    const empty = qualityOf([], 0.5);
    expect([empty.auc, empty.logLoss, empty.brier, empty.falsePositiveRate]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });
});

describe('sliding windows', () => {
  it('keeps at most maxItems, oldest leaving first, and none older than maxAgeMs once expired', () => {
    const evicted: number[] = [];
    const window = new SlidingWindow<number>(3, 1_000, (item) => evicted.push(item));
    for (let i = 1; i <= 5; i++) window.add(i, i * 100);
    expect(window.values()).toEqual([3, 4, 5]);
    expect(evicted).toEqual([1, 2]);
    window.expire(1_450); // 300 and 400 are older than 1,450 - 1,000; 500 is not
    expect(window.values()).toEqual([5]);
    expect(window.size).toBe(1);
    expect(() => new SlidingWindow(0)).toThrow('maxItems must be a positive integer, got 0');
  });

  it('keeps bucket counts equal to a recount of the window after every step (seeded random walk)', () => {
    const buckets = new BucketWindow(4, 50, 3_000);
    const shadow = new SlidingWindow<number>(50, 3_000);
    let state = 12_345;
    for (let t = 0; t < 5_000; t++) {
      state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
      const bucket = state % 4;
      buckets.add(bucket, t * 10);
      shadow.add(bucket, t * 10);
      if (t % 7 === 0) {
        buckets.expire(t * 10 + 200);
        shadow.expire(t * 10 + 200);
      }
      const recount = [0, 0, 0, 0];
      for (const b of shadow.values()) recount[b]!++;
      expect([...buckets.counts]).toEqual(recount);
    }
    expect(() => buckets.add(4, 0)).toThrow('bucket 4 is not one of the 4 buckets');
  });
});

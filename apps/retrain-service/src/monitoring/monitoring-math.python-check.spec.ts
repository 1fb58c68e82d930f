import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '@scoregate/test-servers';
import { bucketCount, bucketOf, type Bins } from './binning.js';
import { populationStabilityIndex } from './psi.js';
import { qualityOf, type Labeled } from './quality.js';

// The monitoring figures checked against an independent implementation: numpy and scikit-learn
// (tools/monitoring/check_metrics.py, in the pinned Python environment of tools/models/setup.sh)
// on the same seeded rows, within 1e-9.
const repo = fileURLToPath(new URL('../../../../', import.meta.url));
const SEED = 20261207;
const TOLERANCE = 1e-9;

function python(): string {
  const out = execFileSync('bash', [`${repo}tools/models/setup.sh`], { encoding: 'utf8' });
  return out.trim().split('\n').at(-1)!;
}

interface PsiCase {
  readonly edges: number[];
  readonly reference: number[];
  readonly values: (number | null)[];
}

/** Rows with ties (scores on a 0.01 grid), both labels, and scores at 0 and 1 exactly. */
function generate(random: () => number) {
  const items: Labeled[] = [];
  for (let i = 0; i < 20_000; i++) {
    const truth = random() < 0.3 ? 1 : 0;
    const raw = Math.min(1, Math.max(0, 0.35 * truth + 0.65 * random()));
    const score = i % 997 === 0 ? truth ^ 1 : Math.round(raw * 100) / 100;
    items.push({ score, label: truth as 0 | 1 });
  }
  const psi: PsiCase[] = [];
  for (const shift of [0, 0.3, 2]) {
    const edges = [-1.5, -0.5, 0, 0.5, 1.5, 3];
    const reference = [0.06, 0.25, 0.19, 0.2, 0.24, 0.04, 0, 0.02];
    const values = Array.from({ length: 10_000 }, () => {
      if (random() < 0.03 + shift / 20) return null;
      // A roughly normal value (sum of uniforms), shifted; some exactly on an edge.
      const v = random() + random() + random() - 1.5 + shift;
      return random() < 0.01 ? edges[Math.floor(random() * edges.length)]! : v;
    });
    psi.push({ edges, reference, values });
  }
  return { items, psi };
}

describe('monitoring figures against numpy and scikit-learn (seeded)', () => {
  it(`AUC, log-loss, Brier, FP/FN rates and PSI equal Python's within ${TOLERANCE}`, () => {
    const random = seededRandom(SEED);
    const { items, psi } = generate(random);
    const threshold = 0.5;
    const input = JSON.stringify({ threshold, items, psi });
    const expected = JSON.parse(
      execFileSync(python(), [`${repo}tools/monitoring/check_metrics.py`], {
        input,
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      }),
    ) as {
      quality: Record<string, number>;
      psi: { counts: number[]; psi: number }[];
    };

    const quality = qualityOf(items, threshold);
    for (const [name, value] of Object.entries(expected.quality)) {
      const ours = quality[name as keyof typeof quality]!;
      expect(Math.abs(ours - value), `${name}: ours ${ours}, Python ${value}`).toBeLessThanOrEqual(
        TOLERANCE,
      );
    }
    psi.forEach((c, i) => {
      const bins: Bins = { edges: c.edges };
      const counts = new Array<number>(bucketCount(bins)).fill(0);
      for (const v of c.values) counts[bucketOf(bins, v ?? undefined)]!++;
      expect(counts, `bucket counts of case ${i}`).toEqual(expected.psi[i]!.counts);
      const ours = populationStabilityIndex(c.reference, counts)!;
      expect(Math.abs(ours - expected.psi[i]!.psi), `PSI of case ${i}`).toBeLessThanOrEqual(
        TOLERANCE,
      );
    });
    // The data are what they claim: a large shift is far above the 0.25 rule of thumb, and the
    // scores rank the labels better than chance.
    expect(expected.psi[2]!.psi).toBeGreaterThan(0.25);
    expect(quality.auc).toBeGreaterThan(0.6);
  }, 120_000);
});

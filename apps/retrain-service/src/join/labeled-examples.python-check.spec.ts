import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { PredictionLoggedSchema } from '@scoregate/contracts';
import { seededRandom } from '@scoregate/test-servers';
import { predictionInput } from './join-inputs.js';
import { LabeledExampleStore } from './labeled-example-store.js';

// The labelled examples as a data scientist reads them: Python's sqlite3 and numpy only
// (tools/learning/labeled_examples.py, in the pinned environment of tools/models/setup.sh), on a
// store written here from seeded predictions and outcomes.
const repo = fileURLToPath(new URL('../../../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'labels-python-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function python(): string {
  const out = execFileSync('bash', [`${repo}tools/models/setup.sh`], { encoding: 'utf8' });
  return out.trim().split('\n').at(-1)!;
}

describe('labelled examples read from Python without Scoregate', () => {
  it('hold the rows, labels, feature values and missing flags the join wrote (seeded)', () => {
    const random = seededRandom(20261208);
    const store = new LabeledExampleStore({
      file: join(dir, 'labels.sqlite'),
      joinWindowMs: 3_600_000,
    });
    const t0 = Date.UTC(2026, 11, 8);
    const rows = Array.from({ length: 3_000 }, (_, i) => {
      const snr = random() < 0.1 ? undefined : Math.round(random() * 4000) / 100;
      const visits = BigInt(Math.floor(random() * 20));
      return {
        i,
        snr,
        visits,
        score: random(),
        label: random() < 0.3 ? 1 : 0,
        model: i % 5 === 0 ? 'other' : 'm',
      };
    });
    store.apply({
      predictions: rows.map((r) =>
        predictionInput(
          create(PredictionLoggedSchema, {
            requestId: `py-${String(r.i).padStart(5, '0')}`,
            servedBy: { model: r.model, version: '1' },
            features: [
              r.snr === undefined
                ? { ref: 'v:snr', missing: true }
                : { ref: 'v:snr', value: { kind: { case: 'doubleValue', value: r.snr } } },
              { ref: 'v:visits', value: { kind: { case: 'int64Value', value: r.visits } } },
            ],
            score: r.score,
            loggedAt: timestampFromMs(t0 + r.i),
          }),
        ),
      ),
      outcomes: rows.map((r) => ({
        requestId: `py-${String(r.i).padStart(5, '0')}`,
        batchIndex: 0,
        label: r.label,
        observedAtMs: t0 + r.i + 1000,
        entityType: '',
        entityKey: '',
        scorer: '',
        source: '',
      })),
    });
    store.close();

    const summary = JSON.parse(
      execFileSync(
        python(),
        [`${repo}tools/learning/labeled_examples.py`, join(dir, 'labels.sqlite'), '--model', 'm'],
        {
          encoding: 'utf8',
        },
      ),
    ) as Record<string, unknown>;
    const mine = rows.filter((r) => r.model === 'm');
    const withSnr = mine.filter((r) => r.snr !== undefined);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(summary['rows']).toBe(mine.length);
    expect(summary['refs']).toEqual(['v:snr', 'v:visits']);
    expect(summary['positives']).toBe(mine.filter((r) => r.label === 1).length);
    expect(summary['missing']).toEqual([mine.length - withSnr.length, 0]);
    const [snrMean, visitsMean] = summary['feature_means'] as number[];
    expect(snrMean).toBeCloseTo(mean(withSnr.map((r) => r.snr!)), 9);
    expect(visitsMean).toBeCloseTo(mean(mine.map((r) => Number(r.visits))), 9);
    expect(summary['score_sum']).toBeCloseTo(
      mine.reduce((a, r) => a + r.score, 0),
      9,
    );
    expect(summary['first_request_id']).toBe('py-00001');
  });
});

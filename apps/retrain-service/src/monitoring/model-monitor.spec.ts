import { describe, expect, it } from 'vitest';
import { seededRandom } from '@scoregate/test-servers';
import { areaUnderRoc } from './quality.js';
import { ModelMonitor, type MonitorSignal } from './model-monitor.js';
import { distributionOf, type ReferenceSignature } from './reference.js';

// A synthetic model with known ground truth: four standard-normal inputs (the last one missing
// 2% of the time), score = logistic(x0 + 0.8·x1 − 0.5·x2), label drawn from the score. Seeded, so
// that a failure replays.
const FEATURES = ['x0', 'x1', 'x2', 'x3'];
const logistic = (z: number) => 1 / (1 + Math.exp(-z));

function world(seed: number) {
  const random = seededRandom(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const draw = (shift = [0, 0, 0, 0], missing3 = 0.02) => {
    const x = FEATURES.map((_, i) => normal() + shift[i]!);
    const values = x.map((v, i) => (i === 3 && random() < missing3 ? undefined : v));
    const score = logistic(x[0]! + 0.8 * x[1]! - 0.5 * x[2]!);
    return { values, score };
  };
  const label = (p: number) => (random() < p ? 1 : 0) as 0 | 1;
  return { draw, label, random };
}

/** The signature a trainer would record from 20,000 training rows. */
function signature(seed: number): ReferenceSignature {
  const { draw, label } = world(seed);
  const rows = Array.from({ length: 20_000 }, () => draw());
  const items = rows.map((r) => ({ score: r.score, label: label(r.score) }));
  return {
    features: FEATURES.map((name, i) => ({
      name,
      ...distributionOf(rows.map((r) => r.values[i])),
    })),
    score: distributionOf(rows.map((r) => r.score)),
    threshold: 0.5,
    metrics: { auc: areaUnderRoc(items)! },
  };
}

const names = (signals: MonitorSignal[]) =>
  signals.map((s) => (s.kind === 'drift' ? `drift:${s.figure.name}` : 'decay'));

describe('ModelMonitor', () => {
  const reference = signature(1);

  it('raises no alarm over 20,000 predictions and outcomes from the training distribution', () => {
    const monitor = new ModelMonitor(reference);
    const { draw, label } = world(2);
    const signals: MonitorSignal[] = [];
    let maxPsi = 0;
    for (let i = 1; i <= 20_000; i++) {
      const { values, score } = draw();
      monitor.observePrediction(values, score, i);
      monitor.observeOutcome(score, label(score), i);
      if (i % 100 === 0) {
        const { health, signals: now } = monitor.evaluate(i);
        signals.push(...now);
        for (const f of health.features) maxPsi = Math.max(maxPsi, f.psi ?? 0);
        // Memory is bounded: the windows never hold more than the policy says.
        expect(health.score.samples).toBeLessThanOrEqual(1_000);
        expect(health.quality?.samples ?? 0).toBeLessThanOrEqual(500);
      }
    }
    expect(names(signals)).toEqual([]);
    // Far below the threshold, not just under it.
    expect(maxPsi).toBeLessThan(0.1);
  });

  it('detects a covariate shift of one feature within 2,000 predictions, and no untouched feature', () => {
    const monitor = new ModelMonitor(reference);
    const { draw } = world(3);
    const SHIFT_AT = 5_000;
    let detectedAt: number | undefined;
    const signals: string[] = [];
    for (let i = 1; i <= SHIFT_AT + 4_000; i++) {
      const { values, score } = draw(i > SHIFT_AT ? [0, 0, 1, 0] : undefined);
      monitor.observePrediction(values, score, i);
      if (i % 50 === 0) {
        const now = names(monitor.evaluate(i).signals);
        signals.push(...now);
        if (now.includes('drift:x2')) detectedAt ??= i;
      }
    }
    expect(detectedAt).toBeDefined();
    expect(detectedAt! - SHIFT_AT).toBeLessThanOrEqual(2_000);
    // x2 drifted, and the score with it (it depends on x2); x0, x1 and x3 did not.
    expect(signals.filter((s) => s.startsWith('drift:x') && s !== 'drift:x2')).toEqual([]);
    expect(signals.filter((s) => s === 'drift:x2')).toHaveLength(1); // edge-triggered: once
    const { health } = monitor.evaluate(SHIFT_AT + 4_000);
    expect(health.features[2]!.psi).toBeGreaterThan(0.25);
  });

  it('detects a change in missing rate, and reports no figure below the minimum sample count', () => {
    const monitor = new ModelMonitor(reference);
    const { draw } = world(4);
    for (let i = 1; i <= 499; i++) {
      const { values, score } = draw(undefined, 0.5);
      monitor.observePrediction(values, score, i);
    }
    const early = monitor.evaluate(499);
    expect(early.health.features[3]).toMatchObject({
      samples: 499,
      psi: undefined,
      drifted: false,
    });
    expect(early.signals).toEqual([]);
    for (let i = 500; i <= 1_000; i++) {
      const { values, score } = draw(undefined, 0.5);
      monitor.observePrediction(values, score, i);
    }
    const { health, signals } = monitor.evaluate(1_000);
    expect(names(signals)).toContain('drift:x3');
    expect(health.features[3]!.missingRate).toBeGreaterThan(0.4);
    expect(health.features[3]!.referenceMissingRate).toBeCloseTo(0.02, 2);
  });

  it('detects concept drift within 1,000 outcomes: the same inputs, labels no longer following the score', () => {
    const monitor = new ModelMonitor(reference);
    const { draw, label } = world(5);
    const DRIFT_AT = 3_000;
    let decayedAt: number | undefined;
    for (let i = 1; i <= DRIFT_AT + 1_500; i++) {
      const { values, score } = draw();
      monitor.observePrediction(values, score, i);
      // After the drift the world follows x2 instead: the model's score says little.
      const truth = i > DRIFT_AT ? logistic(2 * (values[2] ?? 0)) : score;
      monitor.observeOutcome(score, label(truth), i);
      if (i % 25 === 0) {
        const { signals, health } = monitor.evaluate(i);
        if (i <= DRIFT_AT) expect(signals.filter((s) => s.kind === 'decay')).toEqual([]);
        if (signals.some((s) => s.kind === 'decay')) {
          decayedAt ??= i;
          expect(health.quality!.auc!).toBeLessThanOrEqual(0.9 * reference.metrics.auc!);
        }
      }
    }
    expect(decayedAt).toBeDefined();
    expect(decayedAt! - DRIFT_AT).toBeLessThanOrEqual(1_000);
  });

  it('forgets what is older than maxAgeMs', () => {
    const monitor = new ModelMonitor(reference, { maxAgeMs: 1_000, minSamples: 10 });
    const { draw } = world(6);
    for (let i = 0; i < 100; i++) {
      const { values, score } = draw();
      monitor.observePrediction(values, score, i);
    }
    expect(monitor.evaluate(500).health.score.samples).toBe(100);
    expect(monitor.evaluate(1_050).health.score.samples).toBe(50); // times 50..99 are within 1 s
  });

  it('refuses a prediction with another number of features than the signature', () => {
    const monitor = new ModelMonitor(reference);
    expect(() => monitor.observePrediction([1, 2], 0.5, 0)).toThrow(
      "expected 4 feature values (the signature's), got 2",
    );
  });
});

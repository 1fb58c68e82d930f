import { bucketCount, bucketOf } from './binning.js';
import { populationStabilityIndex } from './psi.js';
import { qualityOf, type Labeled, type Quality } from './quality.js';
import { missingRate, type Distribution, type ReferenceSignature } from './reference.js';
import { BucketWindow, SlidingWindow } from './sliding-window.js';

/** When live traffic counts as drifted or decayed, and over how much of it. */
export interface MonitoringPolicy {
  /** PSI of a feature or of the score at or above which it has drifted. Default 0.25. */
  readonly driftPsi: number;
  /** Change of a feature's missing rate (absolute, 0..1) at or above which it has drifted. Default 0.1. */
  readonly missingRateChange: number;
  /** The quality metric watched for decay. Default `auc`. */
  readonly decayMetric: 'auc' | 'logLoss' | 'brier';
  /** How much worse than the reference the metric may get, relative (0.1: 10%). Default 0.1. */
  readonly decayRelative: number;
  /** Predictions in the window before any drift figure counts. Default 500. */
  readonly minSamples: number;
  /** Outcomes in the window before any quality figure counts. Default 200. */
  readonly minOutcomes: number;
  /** The windows: the most recent predictions (outcomes), none older than maxAgeMs. */
  readonly windowPredictions: number;
  readonly windowOutcomes: number;
  readonly maxAgeMs: number;
}

export const DEFAULT_POLICY: MonitoringPolicy = {
  driftPsi: 0.25,
  missingRateChange: 0.1,
  decayMetric: 'auc',
  decayRelative: 0.1,
  minSamples: 500,
  minOutcomes: 200,
  windowPredictions: 1_000,
  windowOutcomes: 500,
  maxAgeMs: 3_600_000,
};

/** Drift of one input (or of the score), with the samples behind it. */
export interface DriftFigure {
  readonly name: string;
  readonly samples: number;
  /** Undefined below the policy's minimum sample count. */
  readonly psi: number | undefined;
  readonly missingRate: number | undefined;
  readonly referenceMissingRate: number;
  readonly drifted: boolean;
}

export interface QualityFigure extends Quality {
  /** The reference value of the watched metric, if the signature has it. */
  readonly reference: number | undefined;
  readonly decayed: boolean;
}

export interface ModelHealth {
  readonly features: readonly DriftFigure[];
  readonly score: DriftFigure;
  /** Undefined below the policy's minimum outcome count. */
  readonly quality: QualityFigure | undefined;
}

/** A crossing: raised once when a figure crosses its threshold, again only after it came back. */
export type MonitorSignal =
  | { readonly kind: 'drift'; readonly figure: DriftFigure }
  | { readonly kind: 'decay'; readonly figure: QualityFigure };

/** Live distribution of one input against its reference. */
class DriftTracker {
  private readonly window: BucketWindow;

  constructor(
    readonly name: string,
    private readonly reference: Distribution,
    policy: MonitoringPolicy,
  ) {
    this.window = new BucketWindow(
      bucketCount(reference.bins),
      policy.windowPredictions,
      policy.maxAgeMs,
    );
  }

  add(value: number | undefined, atMs: number): void {
    this.window.add(bucketOf(this.reference.bins, value), atMs);
  }

  figure(policy: MonitoringPolicy, nowMs: number): DriftFigure {
    this.window.expire(nowMs);
    const samples = this.window.size;
    const referenceMissingRate = missingRate(this.reference);
    if (samples < policy.minSamples)
      return {
        name: this.name,
        samples,
        psi: undefined,
        missingRate: undefined,
        referenceMissingRate,
        drifted: false,
      };
    const counts = [...this.window.counts];
    const psi = populationStabilityIndex(this.reference.proportions, counts)!;
    const rate = counts.at(-1)! / samples;
    const drifted =
      psi >= policy.driftPsi || Math.abs(rate - referenceMissingRate) >= policy.missingRateChange;
    return { name: this.name, samples, psi, missingRate: rate, referenceMissingRate, drifted };
  }
}

/**
 * Live monitoring of one model version against its reference signature: input drift per feature
 * (PSI and missing-rate change), output drift (score PSI), and quality from joined outcomes, each
 * over sliding windows bounded by count and age — memory fixed whatever the traffic. `evaluate`
 * returns the figures and the crossings since the last call (edge-triggered: a figure that stays
 * over its threshold signals once).
 */
export class ModelMonitor {
  readonly policy: MonitoringPolicy;
  private readonly features: DriftTracker[];
  private readonly score: DriftTracker;
  private readonly outcomes: SlidingWindow<Labeled>;
  private readonly alarmed = new Set<string>();

  constructor(
    readonly reference: ReferenceSignature,
    policy: Partial<MonitoringPolicy> = {},
  ) {
    this.policy = { ...DEFAULT_POLICY, ...policy };
    this.features = reference.features.map((f) => new DriftTracker(f.name, f, this.policy));
    this.score = new DriftTracker('score', reference.score, this.policy);
    this.outcomes = new SlidingWindow<Labeled>(this.policy.windowOutcomes, this.policy.maxAgeMs);
  }

  /** One prediction: the feature values the model used (in the signature's order) and its score. */
  observePrediction(values: readonly (number | undefined)[], score: number, atMs: number): void {
    if (values.length !== this.features.length)
      throw new RangeError(
        `expected ${this.features.length} feature values (the signature's), got ${values.length}`,
      );
    this.features.forEach((tracker, i) => tracker.add(values[i], atMs));
    this.score.add(score, atMs);
  }

  /** One joined outcome: the score the model gave and the label observed. */
  observeOutcome(score: number, label: 0 | 1, atMs: number): void {
    this.outcomes.add({ score, label }, atMs);
  }

  /** The current figures, and the crossings since the last call. */
  evaluate(nowMs: number): { health: ModelHealth; signals: MonitorSignal[] } {
    const features = this.features.map((t) => t.figure(this.policy, nowMs));
    const score = this.score.figure(this.policy, nowMs);
    const quality = this.quality(nowMs);
    const signals: MonitorSignal[] = [];
    for (const figure of [...features, score])
      if (this.crossed(`drift:${figure.name}`, figure.drifted))
        signals.push({ kind: 'drift', figure });
    if (quality && this.crossed('decay', quality.decayed))
      signals.push({ kind: 'decay', figure: quality });
    return { health: { features, score, quality }, signals };
  }

  private quality(nowMs: number): QualityFigure | undefined {
    this.outcomes.expire(nowMs);
    if (this.outcomes.size < this.policy.minOutcomes) return undefined;
    const quality = qualityOf(this.outcomes.values(), this.reference.threshold);
    const metric = this.policy.decayMetric;
    const reference = this.reference.metrics[metric];
    const live = quality[metric];
    let decayed = false;
    if (reference !== undefined && live !== undefined) {
      // AUC: higher is better; log-loss and Brier: lower is better.
      decayed =
        metric === 'auc'
          ? live <= reference * (1 - this.policy.decayRelative)
          : live >= reference * (1 + this.policy.decayRelative);
    }
    return { ...quality, reference, decayed };
  }

  /** True when `key` is over now and was not at the last evaluation. */
  private crossed(key: string, over: boolean): boolean {
    if (!over) {
      this.alarmed.delete(key);
      return false;
    }
    if (this.alarmed.has(key)) return false;
    this.alarmed.add(key);
    return true;
  }
}

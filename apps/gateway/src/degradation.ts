import { DegradationReason } from '@scoregate/contracts';
import { CircuitOpenError } from '@scoregate/resilience';
import { Code, RpcError } from '@scoregate/rpc';
import { TooSlowError } from './chain-resilience.js';
import type { FeatureVector } from './feature-vector.js';

/** Sets collecting why and how an answer is degraded. */
export interface Degradation {
  readonly reasons: Set<DegradationReason>;
  readonly missing: Set<string>;
  readonly stale: Set<string>;
}

export function newDegradation(): Degradation {
  return { reasons: new Set(), missing: new Set(), stale: new Set() };
}

/** Records the required features a model lacks (missing) or has only old values of (stale). */
export function recordFeatureGaps(degradation: Degradation, vector: FeatureVector): void {
  vector.missing.forEach((f) => degradation.missing.add(f));
  vector.stale.forEach((f) => degradation.stale.add(f));
  if (vector.missing.length > 0) degradation.reasons.add(DegradationReason.FEATURES_MISSING);
  if (vector.stale.length > 0) degradation.reasons.add(DegradationReason.FEATURES_STALE);
}

/** What a failed model call says about the answer; undefined for a call the caller cancelled. */
export function reasonOfFailure(error: unknown): DegradationReason | undefined {
  if (error instanceof CircuitOpenError) return DegradationReason.CIRCUIT_OPEN;
  if (error instanceof TooSlowError) return DegradationReason.PRIMARY_TIMEOUT;
  const code = RpcError.from(error).code;
  if (code === Code.CANCELLED) return undefined;
  return code === Code.DEADLINE_EXCEEDED
    ? DegradationReason.PRIMARY_TIMEOUT
    : DegradationReason.MODEL_ERROR;
}

/** Degraded: not answered by the chain's first model, or answered without stored features. */
export function isDegraded(degradation: Degradation, position: number | undefined): boolean {
  return (
    position === undefined ||
    position > 0 ||
    degradation.reasons.has(DegradationReason.FEATURES_UNAVAILABLE)
  );
}

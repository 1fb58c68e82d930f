import {
  aheadOfClockReason as reasonOf,
  ClockSkewGuard,
  DEFAULT_CLOCK_SKEW_TOLERANCE_MS,
} from '@scoregate/clock-skew';
import { env } from '@scoregate/config';

export { ClockSkewGuard, describeSkew } from '@scoregate/clock-skew';

/** The tolerance, from the environment (feature-service and ingestor). */
export const clockSkewEnv = {
  FEATURE_CLOCK_SKEW_TOLERANCE_MS: env.millis(DEFAULT_CLOCK_SKEW_TOLERANCE_MS),
};

/** Which way the rows arrived: a WriteFeatures call or a FeatureUpdated event. */
export type WritePath = 'rpc' | 'stream';

/**
 * The feature store's guard: `scoregate.feature.clock_skew.refused{source,path}` and
 * `scoregate.feature.producer_clock_offset{source}`.
 */
export function featureClockSkewGuard(
  options: { readonly toleranceMs?: number; readonly now?: () => number } = {},
): ClockSkewGuard {
  return new ClockSkewGuard({
    ...options,
    meter: '@scoregate/feature-service',
    metricPrefix: 'scoregate.feature',
    item: 'row',
  });
}

/** Why a row stamped ahead of the clock is refused, and what to do. */
export function aheadOfClockReason(aheadMs: number, toleranceMs: number, source: string): string {
  return reasonOf(
    { aheadMs, toleranceMs, source },
    'feature-service',
    'a value stamped in the future would win every later write and never turn STALE',
  );
}

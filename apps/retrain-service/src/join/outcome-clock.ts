import {
  aheadOfClockReason,
  ClockSkewGuard,
  DEFAULT_CLOCK_SKEW_TOLERANCE_MS,
} from '@scoregate/clock-skew';
import { env } from '@scoregate/config';
import type { OutcomeClockCheck } from './join-handlers.js';

/** The tolerance for outcomes' observed_at, from the environment. */
export const outcomeClockEnv = {
  RETRAIN_OUTCOME_CLOCK_SKEW_TOLERANCE_MS: env.millis(DEFAULT_CLOCK_SKEW_TOLERANCE_MS),
};

/**
 * The outcomes' guard: `scoregate.outcome.clock_skew.refused{source,path}` and
 * `scoregate.outcome.producer_clock_offset{source}`.
 */
export function outcomeClockSkewGuard(
  options: { readonly toleranceMs?: number; readonly now?: () => number } = {},
): ClockSkewGuard {
  return new ClockSkewGuard({
    ...options,
    meter: '@scoregate/retrain-service',
    metricPrefix: 'scoregate.outcome',
    item: 'outcome',
  });
}

/**
 * Refuses an outcome observed further ahead of this clock than the guard tolerates: it would
 * count in quality windows it does not belong to and look older than the predictions it labels.
 * `path` is how the outcomes came: `rpc` (RecordOutcomes) or `stream` (the outcome topic).
 */
export function outcomeClockCheck(
  guard: ClockSkewGuard,
  path: 'rpc' | 'stream',
): OutcomeClockCheck {
  return (outcomes) => {
    for (const [index, outcome] of outcomes.entries()) {
      const ahead = guard.check([outcome.observedAtMs], outcome.source, { path });
      if (ahead !== undefined)
        return {
          index,
          reason: aheadOfClockReason(
            { aheadMs: ahead.aheadMs, toleranceMs: guard.toleranceMs, source: outcome.source },
            'retrain-service',
            'an outcome stamped in the future would count in quality windows it does not belong to',
          ),
        };
    }
    return undefined;
  };
}

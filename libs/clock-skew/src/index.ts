export {
  aheadOfClockReason,
  ClockSkewGuard,
  DEFAULT_CLOCK_SKEW_TOLERANCE_MS,
  describeSkew,
  UNNAMED_SOURCE,
  type AheadOfClock,
  type ClockSkewGuardOptions,
} from './clock-skew-guard.js';

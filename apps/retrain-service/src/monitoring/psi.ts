/**
 * Proportions below this count as this much in the population stability index, so that an empty
 * bin on one side gives a large but finite figure rather than an infinite one (the usual
 * practice; the numpy check in the test suite floors the same way).
 */
export const PSI_FLOOR = 1e-4;

/**
 * Population stability index of `live` counts against `reference` proportions over the same
 * buckets: Σ (p − q) · ln(p / q), p the live proportion, q the reference one, each floored at
 * {@link PSI_FLOOR}. 0: the same distribution; by common rule of thumb below 0.1 stable, 0.1–0.25
 * a moderate shift, above 0.25 a major one. Undefined with no live sample.
 */
export function populationStabilityIndex(
  reference: readonly number[],
  live: readonly number[],
): number | undefined {
  if (reference.length !== live.length)
    throw new RangeError(
      `reference has ${reference.length} buckets, live has ${live.length}: they must be the same`,
    );
  let total = 0;
  for (const count of live) total += count;
  if (total === 0) return undefined;
  let psi = 0;
  for (let i = 0; i < live.length; i++) {
    const p = Math.max(live[i]! / total, PSI_FLOOR);
    const q = Math.max(reference[i]!, PSI_FLOOR);
    psi += (p - q) * Math.log(p / q);
  }
  return psi;
}

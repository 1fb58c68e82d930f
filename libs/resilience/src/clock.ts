/** Epoch milliseconds with sub-millisecond precision (same scale as `Date.now()`). */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * How much to fuzz, from the environment. The default is the short CI run; `FUZZ_RUNS=1000000`
 * is the long mode (run by hand: `npm run fuzz:long`).
 */
function positiveInt(name: string, fallback: number): number {
  const text = process.env[name]?.trim();
  if (!text) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new Error(`${name} must be a positive integer, got ${JSON.stringify(text)}`);
  return value;
}

/** The seed of every generator; a failure prints it with the path that replays it. */
export const fuzzSeed = positiveInt('FUZZ_SEED', 20_261_207);
/** Inputs per RPC (valid-shaped and raw bytes together). */
export const fuzzRuns = positiveInt('FUZZ_RUNS', 10_000);
/** Calls in flight at once: one property run sends this many inputs concurrently. */
export const fuzzInFlight = positiveInt('FUZZ_IN_FLIGHT', 32);
/** fast-check's replay path of a failure (printed with it), to run that case alone. */
export const fuzzPath = process.env['FUZZ_PATH']?.trim() || undefined;
/** Only these RPCs, by method name (`FUZZ_ONLY=Score,WriteFeatures`); every one when unset. */
const only = new Set(
  (process.env['FUZZ_ONLY'] ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== ''),
);

/** True when FUZZ_ONLY leaves this RPC out. */
export const notSelected = (rpc: string): boolean => only.size > 0 && !only.has(rpc);

/** A test's time limit: generous for the short mode, growing with FUZZ_RUNS for the long one. */
export const fuzzTimeoutMs = Math.max(300_000, fuzzRuns * 30);

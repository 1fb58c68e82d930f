import { CircuitBreakers, LatencyTracker } from '@scoregate/resilience';
import { Code, RpcError } from '@scoregate/rpc';
import type { ChainModel } from './route-resolver.js';
import type { ScoringBackend } from './scoring-backends.js';

/** What the gateway learns about models and backends across requests. */
export interface ChainResilience {
  /** One circuit per model alias and scoring backend. */
  readonly breakers: CircuitBreakers;
  /** Observed latency per model alias and scoring backend (successful single-entity calls). */
  readonly latency: LatencyTracker;
  /** Hedge a slow model to the next one after its observed p95. */
  readonly hedging: boolean;
}

export function createChainResilience(options: { hedging?: boolean } = {}): ChainResilience {
  return {
    breakers: new CircuitBreakers({
      // A call we cancelled ourselves (the hedge won, or the client went away) says nothing about
      // the model; a refused request is our bug, not the backend's.
      isFailure: (error) => {
        if (error instanceof TooSlowError) return true;
        const code = RpcError.from(error).code;
        return code !== Code.CANCELLED && code !== Code.INVALID_ARGUMENT;
      },
    }),
    latency: new LatencyTracker({ windowMs: 5_000, slices: 10, minSamples: 20 }),
    hedging: options.hedging ?? true,
  };
}

/** The key of a model alias on a scoring backend: what circuits and latencies are kept by. */
export function modelKey(chainModel: ChainModel, backend: ScoringBackend): string {
  return `${chainModel.model}:${chainModel.alias}@${backend.name}`;
}

/** A model call cancelled because it was slower than the alternatives or the budget. */
export class TooSlowError extends Error {
  constructor(key: string, elapsedMs: number, cause: unknown) {
    super(`${key} gave no answer in ${elapsedMs.toFixed(1)} ms`, { cause });
    this.name = 'TooSlowError';
  }
}

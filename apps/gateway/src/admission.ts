import { durationMs } from '@bufbuild/protobuf/wkt';
import {
  AdaptiveConcurrencyLimit,
  nowMs,
  type ConcurrencyLimitOptions,
} from '@scoregate/resilience';
import { Code, RpcError, type CallContext } from '@scoregate/rpc';

/**
 * Admission control in front of Score and ScoreBatch: an adaptive concurrency limit, and a
 * request that cannot finish within its budget is refused at once with RESOURCE_EXHAUSTED (the
 * message says why) instead of queueing and timing out.
 */
export class Admission {
  readonly limit: AdaptiveConcurrencyLimit;

  constructor(
    private readonly options: {
      /** The least time in which the gateway can answer at all (ms): the response reserve. */
      readonly minimumMs: number;
      readonly defaultBudgetMs: number;
      readonly limit?: ConcurrencyLimitOptions;
    },
  ) {
    this.limit = new AdaptiveConcurrencyLimit({
      initialLimit: 256,
      minLimit: 32,
      // Latency alone does not shrink the limit (on a shared machine it is noisy, and a slower
      // answer within its budget is still a good answer): only requests that missed their budget
      // do, multiplicatively; the limit grows while it is in use (AIMD).
      tolerance: Infinity,
      maxLimit: 2_000,
      ...options.limit,
    });
  }

  /** Runs `work` when admitted; refuses at once otherwise. */
  async run<T>(
    context: CallContext,
    request: { budget?: Parameters<typeof durationMs>[0] },
    work: () => Promise<T>,
  ): Promise<T> {
    const requested = request.budget ? durationMs(request.budget) : Infinity;
    const budgetMs = Math.min(context.remainingMs(), requested > 0 ? requested : Infinity);
    const permit = this.limit.tryAcquire(
      Number.isFinite(budgetMs) ? budgetMs : this.options.defaultBudgetMs,
      this.options.minimumMs,
    );
    if (permit.refused) {
      throw new RpcError(
        Code.RESOURCE_EXHAUSTED,
        `gateway overloaded, request refused: ${permit.reason}`,
      );
    }
    const started = nowMs();
    try {
      const result = await work();
      const tookMs = nowMs() - started;
      permit.release(
        Number.isFinite(budgetMs) && tookMs > budgetMs ? 'dropped' : 'success',
        tookMs,
      );
      return result;
    } catch (error) {
      const code = RpcError.from(error).code;
      permit.release(
        code === Code.DEADLINE_EXCEEDED || code === Code.RESOURCE_EXHAUSTED ? 'dropped' : 'ignore',
        nowMs() - started,
      );
      throw error;
    }
  }
}

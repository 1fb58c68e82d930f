import { durationMs } from '@bufbuild/protobuf/wkt';
import { nowMs, QueueTimeLimit, type QueueTimeLimitOptions } from '@scoregate/resilience';
import { Code, RpcError, type CallContext, type EarlyRefusal } from '@scoregate/rpc';
import { getMeter } from '@scoregate/telemetry';

export interface AdmissionOptions {
  /** The least time in which the gateway can answer at all (ms): the response reserve. */
  readonly minimumMs: number;
  readonly defaultBudgetMs: number;
  readonly limit?: QueueTimeLimitOptions;
}

/**
 * Admission control in front of Score and ScoreBatch: a concurrency limit sized by the gateway's
 * queueing time (its event loop's delay) and by the latency of the calls it admits against their
 * unloaded latency (which also shows queueing in the services it calls and on a shared CPU), so
 * that work never queues without bound. A call
 * above the limit, or whose budget is smaller than the time work takes now, is refused at once
 * with RESOURCE_EXHAUSTED (the message says why) instead of queueing and timing out — first when
 * its headers arrive (`refuseEarly`, before the request is even read: the cheapest refusal there
 * is), and again when the handler starts, with the request's own budget.
 */
export class Admission {
  readonly limit: QueueTimeLimit;
  private readonly refused;

  constructor(private readonly options: AdmissionOptions) {
    this.limit = new QueueTimeLimit(options.limit);
    const meter = getMeter('scoregate.gateway');
    this.refused = meter.createCounter('scoregate.gateway.admission.refused', {
      description: 'Score/ScoreBatch calls refused with RESOURCE_EXHAUSTED by admission control',
    });
    meter
      .createObservableGauge('scoregate.gateway.admission.limit', {
        description: 'Concurrency limit of admission control (calls)',
      })
      .addCallback((result) => result.observe(this.limit.limit));
    meter
      .createObservableGauge('scoregate.gateway.admission.queue_time', {
        description: 'Event-loop queueing time of the last control interval (ms)',
        unit: 'ms',
      })
      .addCallback((result) => result.observe(this.limit.queueMs));
    meter
      .createObservableGauge('scoregate.gateway.admission.busy', {
        description:
          'Share of the last control interval the event loop was busy (0..1); a long queue counts as overload only when it is high',
      })
      .addCallback((result) => result.observe(this.limit.busy));
    meter
      .createObservableGauge('scoregate.gateway.admission.latency', {
        description:
          'Median latency of the calls admitted that ended in the last control interval (ms)',
        unit: 'ms',
      })
      .addCallback((result) => result.observe(this.limit.latencyMs));
    meter
      .createObservableGauge('scoregate.gateway.admission.baseline_latency', {
        description:
          'Unloaded latency of admitted calls, learnt while the gateway is not busy; the latency target is a multiple of it (ms)',
        unit: 'ms',
      })
      .addCallback((result) => result.observe(this.limit.baselineLatencyMs));
  }

  /** For the server's `refuseEarly`: refuses from the headers alone (deadline, load). */
  readonly refuseEarly: EarlyRefusal = (_method, remainingMs) => {
    if (remainingMs < this.options.minimumMs) {
      return this.refusal(
        'early',
        `deadline ${remainingMs.toFixed(1)} ms is shorter than the ${this.options.minimumMs} ms the gateway needs to answer`,
      );
    }
    const full = this.limit.refusal();
    return full === undefined ? undefined : this.refusal('early', full);
  };

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
    if (permit.refused) throw this.refusal('handler', permit.reason);
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

  stop(): void {
    this.limit.stop();
  }

  private refusal(stage: 'early' | 'handler', reason: string): RpcError {
    this.refused.add(1, { stage });
    return new RpcError(Code.RESOURCE_EXHAUSTED, `gateway overloaded, request refused: ${reason}`);
  }
}

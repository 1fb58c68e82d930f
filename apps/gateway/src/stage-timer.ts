import { create } from '@bufbuild/protobuf';
import { DurationSchema, type Duration } from '@bufbuild/protobuf/wkt';
import type { StageTiming } from '@scoregate/contracts';
import { StageTimingSchema } from '@scoregate/contracts';
import { withSpan } from '@scoregate/telemetry';

/** A Duration from fractional milliseconds, keeping microseconds. */
export function durationOf(ms: number): Duration {
  const totalNanos = BigInt(Math.round(ms * 1e6));
  return create(DurationSchema, {
    seconds: totalNanos / 1_000_000_000n,
    nanos: Number(totalNanos % 1_000_000_000n),
  });
}

/**
 * Times the stages of one request. Each stage is also a span, so the trace and the response tell
 * the same story.
 */
export class StageTimer {
  readonly startedAt = performance.now();
  readonly stages: StageTiming[] = [];

  async run<T>(stage: string, fn: () => Promise<T>, detail = ''): Promise<T> {
    const started = performance.now();
    try {
      const attributes = {
        'scoregate.stage': stage,
        ...(detail ? { 'scoregate.stage.detail': detail } : {}),
      };
      return await withSpan(`gateway.${stage}`, attributes, () => fn());
    } finally {
      this.stages.push(
        create(StageTimingSchema, {
          stage,
          detail,
          elapsed: durationOf(performance.now() - started),
        }),
      );
    }
  }

  elapsedMs(): number {
    return performance.now() - this.startedAt;
  }
}

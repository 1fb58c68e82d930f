/** Helpers shared by this library's specs (not exported from the package). */
import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';

/** Unique suffix for topic and group names so runs never collide. */
export function uniqueSuffix(): string {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Polls `probe` every `everyMs` until it returns true or `ms` pass; says what it waited for. */
export async function waitUntil(
  probe: () => boolean | Promise<boolean>,
  ms: number,
  what: string,
  everyMs = 50,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

class CollectingReader extends MetricReader {
  protected async onShutdown() {}
  protected async onForceFlush() {}
}

/** W3C propagation, async context and a meter provider for this test process, as the SDK sets them. */
export function installTelemetryForTests(): { collectLag(): Promise<Map<string, number>> } {
  context.disable();
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.disable();
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.disable();
  metrics.disable();
  const reader = new CollectingReader();
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
  return {
    /** `scoregate_consumer_lag` by `group/topic/partition`, as an exporter would read it now. */
    async collectLag() {
      const { resourceMetrics } = await reader.collect();
      const values = new Map<string, number>();
      for (const scope of resourceMetrics.scopeMetrics)
        for (const metric of scope.metrics)
          if (metric.descriptor.name === 'scoregate_consumer_lag')
            for (const point of metric.dataPoints) {
              const { group, topic, partition } = point.attributes;
              values.set(`${group}/${topic}/${partition}`, point.value as number);
            }
      return values;
    },
  };
}

/** A remote-parent trace context, as an upstream service would have sent. */
export function contextWithTrace(traceId: string) {
  return trace.setSpanContext(context.active(), {
    traceId,
    spanId: '00f067aa0ba902b7',
    traceFlags: 1,
    isRemote: true,
  });
}

export function activeTraceId(): string | undefined {
  return trace.getSpanContext(context.active())?.traceId;
}

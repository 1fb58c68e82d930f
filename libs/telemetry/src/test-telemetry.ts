import { context, metrics, propagation, trace, type Context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';

/** One data point of a metric as an exporter would read it now. */
export interface MetricPoint {
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly value: number;
}

class CollectingReader extends MetricReader {
  protected async onShutdown() {}
  protected async onForceFlush() {}
}

/**
 * For specs: W3C propagation, async context and a meter provider in this test process, as the SDK
 * sets them in a service (`@scoregate/telemetry/register`), with the metrics readable by name.
 */
export function installTelemetryForTests(): {
  collect(metricName: string): Promise<MetricPoint[]>;
} {
  context.disable();
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.disable();
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.disable();
  metrics.disable();
  const reader = new CollectingReader();
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
  return {
    async collect(metricName) {
      const { resourceMetrics } = await reader.collect();
      const points: MetricPoint[] = [];
      for (const scope of resourceMetrics.scopeMetrics)
        for (const metric of scope.metrics)
          if (metric.descriptor.name === metricName)
            for (const point of metric.dataPoints)
              points.push({ attributes: point.attributes, value: point.value as number });
      return points;
    },
  };
}

/** A remote-parent trace context, as an upstream caller would have sent. */
export function contextWithTrace(traceId: string): Context {
  return trace.setSpanContext(context.active(), {
    traceId,
    spanId: '00f067aa0ba902b7',
    traceFlags: 1,
    isRemote: true,
  });
}

/** The trace id of the active context, if any. */
export function activeTraceId(): string | undefined {
  return trace.getSpanContext(context.active())?.traceId;
}

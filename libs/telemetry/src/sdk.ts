import { NodeSDK } from '@opentelemetry/sdk-node';
import { NoopSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace';
import type { ModuleInstrumentation } from './instrumentations.js';
import { getMeter } from './metrics.js';
import { registerRuntimeMetrics } from './runtime-metrics.js';
import { createSpanProcessors } from './span-processors.js';
import type { TelemetryConfig } from './telemetry-config.js';
import { type TelemetryHandle, setTelemetryHandle } from './telemetry-handle.js';

/**
 * Starts the OpenTelemetry Node SDK: W3C trace context and baggage propagation (or
 * `OTEL_PROPAGATORS`), the given instrumentations, span processors from the configuration,
 * metrics and logs only when their exporters are named. Stores the handle for
 * `shutdownTelemetry()`.
 */
export function startTelemetry(
  config: TelemetryConfig,
  instrumentations: ModuleInstrumentation[],
  onError: (message: string, error: unknown) => void,
): TelemetryHandle {
  const exporting = createSpanProcessors(config);
  // With no exporter, spans are still created and dropped, so trace ids keep flowing between
  // services and into log lines.
  const spanProcessors: SpanProcessor[] =
    exporting.length > 0 ? exporting : [new NoopSpanProcessor()];
  const sdk = new NodeSDK({
    serviceName: config.serviceName,
    instrumentations,
    spanProcessors,
    // The SDK would otherwise default both to OTLP and retry a collector that is not there.
    ...(config.metricsFromEnv ? {} : { metricReaders: [] }),
    ...(config.logsFromEnv ? {} : { logRecordProcessors: [] }),
  });
  sdk.start();
  if (config.metricsFromEnv) registerRuntimeMetrics(getMeter());

  let stopping: Promise<void> | undefined;
  const handle: TelemetryHandle = {
    async forceFlush() {
      await Promise.all(spanProcessors.map((processor) => processor.forceFlush()));
    },
    shutdown() {
      // A collector that is down must not make the application's own shutdown fail.
      stopping ??= sdk
        .shutdown()
        .catch((error: unknown) => onError('telemetry shutdown failed to export spans', error));
      return stopping;
    },
  };
  setTelemetryHandle(handle);
  // A process that ends on its own (empty event loop) still exports what it buffered.
  process.once('beforeExit', () => void handle.shutdown());
  return handle;
}

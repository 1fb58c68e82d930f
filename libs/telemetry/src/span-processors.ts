import { OTLPTraceExporter as OtlpGrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as OtlpJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtobufTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { ZipkinExporter } from '@opentelemetry/exporter-zipkin';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import { FileSpanExporter } from './file-span-exporter.js';
import type { OtlpProtocol, TelemetryConfig, TraceExporterName } from './telemetry-config.js';

/**
 * One processor per configured destination. The OTLP and Zipkin exporters read their own
 * endpoint, headers and timeout variables (`OTEL_EXPORTER_OTLP_*`, `OTEL_EXPORTER_ZIPKIN_ENDPOINT`).
 * The file exporter writes each span as it ends, so nothing is lost when a process dies.
 */
export function createSpanProcessors(config: TelemetryConfig): SpanProcessor[] {
  const processors: SpanProcessor[] = config.traceExporters.map((name) =>
    name === 'console'
      ? new SimpleSpanProcessor({ exporter: new ConsoleSpanExporter() })
      : new BatchSpanProcessor({
          exporter: createExporter(name, config.otlpProtocol),
          ...definedOnly(config.batch),
        }),
  );
  if (config.tracesFile !== undefined) {
    const exporter = new FileSpanExporter({
      path: config.tracesFile,
      serviceName: config.serviceName,
    });
    processors.push(new SimpleSpanProcessor({ exporter }));
  }
  return processors;
}

function createExporter(
  name: Exclude<TraceExporterName, 'console'>,
  protocol: OtlpProtocol,
): SpanExporter {
  if (name === 'zipkin') return new ZipkinExporter();
  switch (protocol) {
    case 'grpc':
      return new OtlpGrpcTraceExporter();
    case 'http/json':
      return new OtlpJsonTraceExporter();
    case 'http/protobuf':
      return new OtlpProtobufTraceExporter();
  }
}

function definedOnly<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(values).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}

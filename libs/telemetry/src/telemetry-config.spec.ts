import { describe, expect, it } from 'vitest';
import { loadTelemetryConfig } from './telemetry-config.js';

describe('loadTelemetryConfig', () => {
  it('exports no traces and says so once when nothing is configured', () => {
    const config = loadTelemetryConfig({});

    expect(config.traceExporters).toEqual([]);
    expect(config.tracesFile).toBeUndefined();
    expect(config.notice).toMatch(/no trace exporter configured/);
    expect(config.metricsFromEnv).toBe(false);
    expect(config.logsFromEnv).toBe(false);
    expect(config.sdkDisabled).toBe(false);
  });

  it('uses OTLP when only an OTLP endpoint is set', () => {
    expect(
      loadTelemetryConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }).traceExporters,
    ).toEqual(['otlp']);
    const tracesOnly = loadTelemetryConfig({
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces',
    });
    expect(tracesOnly.traceExporters).toEqual(['otlp']);
    expect(tracesOnly.notice).toBeUndefined();
  });

  it('takes the exporter list from OTEL_TRACES_EXPORTER, trimmed and deduplicated', () => {
    const config = loadTelemetryConfig({
      OTEL_TRACES_EXPORTER: ' zipkin, Console ,zipkin',
      OTEL_SERVICE_NAME: 'gateway',
    });

    expect(config.traceExporters).toEqual(['zipkin', 'console']);
    expect(config.serviceName).toBe('gateway');
    expect(config.warnings).toEqual([]);
  });

  it('exports nothing for "none", without the notice', () => {
    const config = loadTelemetryConfig({
      OTEL_TRACES_EXPORTER: 'none',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x:4318',
    });

    expect(config.traceExporters).toEqual([]);
    expect(config.notice).toBeUndefined();
  });

  it('writes only the file when SCOREGATE_TRACES_FILE is the one setting', () => {
    const config = loadTelemetryConfig({ SCOREGATE_TRACES_FILE: ' /tmp/spans.jsonl ' });

    expect(config.tracesFile).toBe('/tmp/spans.jsonl');
    expect(config.traceExporters).toEqual([]);
    expect(config.notice).toBeUndefined();
  });

  it('warns about unknown exporters, protocols and batch sizes, and falls back', () => {
    const config = loadTelemetryConfig({
      OTEL_TRACES_EXPORTER: 'jaeger,otlp',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'carrier-pigeon',
      OTEL_BSP_SCHEDULE_DELAY: '-5',
      OTEL_BSP_MAX_QUEUE_SIZE: '4096',
    });

    expect(config.traceExporters).toEqual(['otlp']);
    expect(config.otlpProtocol).toBe('http/protobuf');
    expect(config.batch).toEqual({
      scheduledDelayMillis: undefined,
      exportTimeoutMillis: undefined,
      maxQueueSize: 4096,
      maxExportBatchSize: undefined,
    });
    expect(config.warnings).toHaveLength(3);
  });

  it('prefers the traces-specific OTLP protocol', () => {
    const config = loadTelemetryConfig({
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc',
    });

    expect(config.otlpProtocol).toBe('grpc');
  });

  it('hands metrics and logs to the SDK only when a real exporter is named', () => {
    expect(loadTelemetryConfig({ OTEL_METRICS_EXPORTER: 'prometheus' }).metricsFromEnv).toBe(true);
    expect(loadTelemetryConfig({ OTEL_METRICS_EXPORTER: 'none' }).metricsFromEnv).toBe(false);
    expect(loadTelemetryConfig({ OTEL_LOGS_EXPORTER: 'otlp' }).logsFromEnv).toBe(true);
    expect(loadTelemetryConfig({ OTEL_SDK_DISABLED: 'TRUE' }).sdkDisabled).toBe(true);
  });
});

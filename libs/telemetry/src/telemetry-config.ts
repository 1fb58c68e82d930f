/**
 * The one place that reads the environment for the telemetry bootstrap: standard `OTEL_*`
 * variables plus `SCOREGATE_TRACES_FILE`. Values are trimmed and validated here; anything
 * unusable produces a warning and falls back to the default.
 */

export type TraceExporterName = 'otlp' | 'zipkin' | 'console';
export type OtlpProtocol = 'grpc' | 'http/protobuf' | 'http/json';

export interface BatchProcessorConfig {
  readonly scheduledDelayMillis?: number;
  readonly exportTimeoutMillis?: number;
  readonly maxQueueSize?: number;
  readonly maxExportBatchSize?: number;
}

export interface TelemetryConfig {
  /** `OTEL_SDK_DISABLED=true`: start nothing, register no hooks. */
  readonly sdkDisabled: boolean;
  /** `OTEL_SERVICE_NAME`, when set. */
  readonly serviceName: string | undefined;
  /** Exporters fed through a batch processor (console: a simple one). Empty means none. */
  readonly traceExporters: readonly TraceExporterName[];
  readonly otlpProtocol: OtlpProtocol;
  /** `SCOREGATE_TRACES_FILE`: every finished span appended there as one JSON line. */
  readonly tracesFile: string | undefined;
  readonly batch: BatchProcessorConfig;
  /** `OTEL_METRICS_EXPORTER` names a real exporter: let the SDK build it from the environment. */
  readonly metricsFromEnv: boolean;
  /** `OTEL_LOGS_EXPORTER` names a real exporter: let the SDK build it from the environment. */
  readonly logsFromEnv: boolean;
  /** One line for the operator when no trace exporter is configured at all. */
  readonly notice: string | undefined;
  readonly warnings: readonly string[];
}

export type Environment = Readonly<Record<string, string | undefined>>;

const TRACE_EXPORTERS: readonly TraceExporterName[] = ['otlp', 'zipkin', 'console'];
const OTLP_PROTOCOLS: readonly OtlpProtocol[] = ['grpc', 'http/protobuf', 'http/json'];
const DEFAULT_OTLP_PROTOCOL: OtlpProtocol = 'http/protobuf';

export function loadTelemetryConfig(env: Environment): TelemetryConfig {
  const warnings: string[] = [];
  const tracesFile = readString(env, 'SCOREGATE_TRACES_FILE');
  const requested = readList(env, 'OTEL_TRACES_EXPORTER');
  const traceExporters = traceExportersOf(env, requested, warnings);
  const notice =
    requested === undefined && traceExporters.length === 0 && tracesFile === undefined
      ? 'no trace exporter configured, traces are not exported (set OTEL_TRACES_EXPORTER, OTEL_EXPORTER_OTLP_ENDPOINT or SCOREGATE_TRACES_FILE)'
      : undefined;

  return {
    sdkDisabled: readString(env, 'OTEL_SDK_DISABLED')?.toLowerCase() === 'true',
    serviceName: readString(env, 'OTEL_SERVICE_NAME'),
    traceExporters,
    otlpProtocol: otlpProtocolOf(env, warnings),
    tracesFile,
    batch: {
      scheduledDelayMillis: readPositiveInteger(env, 'OTEL_BSP_SCHEDULE_DELAY', warnings),
      exportTimeoutMillis: readPositiveInteger(env, 'OTEL_BSP_EXPORT_TIMEOUT', warnings),
      maxQueueSize: readPositiveInteger(env, 'OTEL_BSP_MAX_QUEUE_SIZE', warnings),
      maxExportBatchSize: readPositiveInteger(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', warnings),
    },
    metricsFromEnv: namesRealExporter(readList(env, 'OTEL_METRICS_EXPORTER')),
    logsFromEnv: namesRealExporter(readList(env, 'OTEL_LOGS_EXPORTER')),
    notice,
    warnings,
  };
}

/** The trace exporters asked for in `OTEL_TRACES_EXPORTER` (`requested`), known ones only. */
function traceExportersOf(
  env: Environment,
  requested: readonly string[] | undefined,
  warnings: string[],
): TraceExporterName[] {
  if (requested === undefined) {
    // The SDK would default to OTLP on localhost:4318 and log an error per failed export;
    // only use OTLP when an endpoint says a collector is there.
    const otlpEndpoint =
      readString(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') ??
      readString(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
    return otlpEndpoint === undefined ? [] : ['otlp'];
  }
  if (requested.includes('none')) {
    if (requested.length > 1)
      warnings.push(
        `OTEL_TRACES_EXPORTER="${requested.join(',')}" contains "none": exporting no traces`,
      );
    return [];
  }
  const exporters: TraceExporterName[] = [];
  for (const name of requested) {
    if (isOneOf(name, TRACE_EXPORTERS)) {
      if (!exporters.includes(name)) exporters.push(name);
    } else {
      warnings.push(
        `OTEL_TRACES_EXPORTER: unknown exporter "${name}" ignored (supported: ${TRACE_EXPORTERS.join(', ')}, none)`,
      );
    }
  }
  return exporters;
}

function otlpProtocolOf(env: Environment, warnings: string[]): OtlpProtocol {
  const protocolName =
    readString(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ??
    readString(env, 'OTEL_EXPORTER_OTLP_PROTOCOL');
  if (protocolName === undefined) return DEFAULT_OTLP_PROTOCOL;
  if (isOneOf(protocolName, OTLP_PROTOCOLS)) return protocolName;
  warnings.push(`OTLP protocol "${protocolName}" unsupported, using ${DEFAULT_OTLP_PROTOCOL}`);
  return DEFAULT_OTLP_PROTOCOL;
}

function readString(env: Environment, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function readList(env: Environment, name: string): string[] | undefined {
  const value = readString(env, name);
  if (value === undefined) return undefined;
  const items = value
    .split(',')
    .map((item) => item.trim().toLowerCase())
    .filter((item) => item !== '');
  return items.length === 0 ? undefined : items;
}

function readPositiveInteger(
  env: Environment,
  name: string,
  warnings: string[],
): number | undefined {
  const value = readString(env, name);
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (Number.isInteger(parsed) && parsed > 0) return parsed;
  warnings.push(`${name}="${value}" is not a positive integer, using the default`);
  return undefined;
}

function namesRealExporter(names: string[] | undefined): boolean {
  return names !== undefined && !names.includes('none');
}

function isOneOf<T extends string>(value: string, allowed: readonly T[]): value is T {
  return (allowed as readonly string[]).includes(value);
}

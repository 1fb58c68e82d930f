export { createLogger, type Logger, type LoggerOptions } from './logger.js';
export { currentTraceId, withSpan } from './spans.js';
export { getMeter } from './metrics.js';
export { flushTelemetry, shutdownTelemetry, type TelemetryHandle } from './telemetry-handle.js';
export {
  type Attributes,
  type Meter,
  type Span,
  SpanKind,
  SpanStatusCode,
  context,
  propagation,
  trace,
} from '@opentelemetry/api';

export { createLogger, type Logger, type LoggerOptions } from './logger.js';
export { currentTraceId, withSpan } from './spans.js';
export { flushTelemetry, shutdownTelemetry, type TelemetryHandle } from './telemetry-handle.js';
export {
  type Attributes,
  type Span,
  SpanKind,
  SpanStatusCode,
  context,
  propagation,
  trace,
} from '@opentelemetry/api';

import { isSpanContextValid, trace } from '@opentelemetry/api';
import { type DestinationStream, type Level, type Logger, pino } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  /** Service name, on every line as `service`. */
  readonly service: string;
  /** Minimum level; `info` unless given. */
  readonly level?: Level | 'silent';
  /** Where lines go; standard output unless given. */
  readonly destination?: DestinationStream;
}

/**
 * A JSON logger whose every line written inside a span carries `trace_id` and `span_id`, so
 * logs and traces of one request can be joined.
 */
export function createLogger(options: LoggerOptions): Logger {
  const settings = {
    level: options.level ?? 'info',
    base: { service: options.service, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin: traceFields,
  };
  return options.destination === undefined ? pino(settings) : pino(settings, options.destination);
}

function traceFields(): { trace_id?: string; span_id?: string } {
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (spanContext === undefined || !isSpanContextValid(spanContext)) return {};
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId };
}

import {
  type Attributes,
  type Span,
  SpanStatusCode,
  isSpanContextValid,
  trace,
} from '@opentelemetry/api';

const TRACER_NAME = '@scoregate/telemetry';

/** The trace id of the active span (32 hex digits), or '' outside any trace. */
export function currentTraceId(): string {
  const spanContext = trace.getActiveSpan()?.spanContext();
  return spanContext !== undefined && isSpanContextValid(spanContext) ? spanContext.traceId : '';
}

/**
 * Runs `fn` inside a new active child span named `name`, for an internal stage of a request.
 * The span ends when `fn` returns or, if it returns a promise, when that settles. A thrown
 * error or a rejection is recorded on the span and sets its status to ERROR, then propagates.
 * On success the status is left as `fn` set it.
 */
export function withSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => T): T {
  return trace.getTracer(TRACER_NAME).startActiveSpan(name, { attributes }, (span) => {
    let result: T;
    try {
      result = fn(span);
    } catch (error) {
      fail(span, error);
      span.end();
      throw error;
    }
    if (!isPromiseLike(result)) {
      span.end();
      return result;
    }
    const settled = Promise.resolve(result).then(
      (value) => {
        span.end();
        return value;
      },
      (error: unknown) => {
        fail(span, error);
        span.end();
        throw error;
      },
    );
    // T is a promise type here, and `settled` resolves to the same value.
    return settled as T;
  });
}

function fail(span: Span, error: unknown): void {
  if (error instanceof Error) {
    span.recordException(error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  } else {
    span.recordException(String(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

import { ROOT_CONTEXT, type Context, type TextMapGetter } from '@opentelemetry/api';
import { context, propagation } from '@scoregate/telemetry';

/**
 * Headers with the active W3C trace context (`traceparent`, `tracestate`) added. Headers the
 * caller set win, so a record re-published (a dead letter) keeps the trace it names.
 */
export function withTraceHeaders(
  headers: Readonly<Record<string, string>> | undefined,
): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return { ...carrier, ...headers };
}

const getter: TextMapGetter<Readonly<Record<string, string>>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
};

/** The producer's trace context carried in `headers`, or the root context when there is none. */
export function traceContextOf(headers: Readonly<Record<string, string>>): Context {
  return propagation.extract(ROOT_CONTEXT, headers, getter);
}

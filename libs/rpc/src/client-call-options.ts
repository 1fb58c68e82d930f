import { Metadata, type CallOptions as GrpcCallOptions } from '@grpc/grpc-js';
import type { CallOptions } from './handler-types.js';

/**
 * The grpc-js options of one call: the earliest of its deadline, its timeout (or the client's
 * default when it has no parent) and its parent's deadline; the parent, for cancellation.
 */
export function grpcCallOptions(
  callOptions: CallOptions,
  defaultTimeoutMs: number | undefined,
): GrpcCallOptions {
  const grpcOptions: GrpcCallOptions = {};
  const timeoutMs = callOptions.timeoutMs ?? (callOptions.parent ? undefined : defaultTimeoutMs);
  const deadlines = [
    callOptions.deadline,
    timeoutMs === undefined ? undefined : Date.now() + timeoutMs,
  ];
  if (callOptions.parent && Number.isFinite(callOptions.parent.deadline))
    deadlines.push(callOptions.parent.deadline);
  const finite = deadlines.filter((d): d is number => d !== undefined && Number.isFinite(d));
  if (finite.length > 0) grpcOptions.deadline = new Date(Math.min(...finite));
  if (callOptions.parent)
    grpcOptions.parent = callOptions.parent.rawCall as GrpcCallOptions['parent'];
  return grpcOptions;
}

/** The client's headers, then the call's own (which win). */
export function callMetadata(
  clientHeaders: Readonly<Record<string, string | Buffer>> | undefined,
  callOptions: CallOptions,
): Metadata {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries({ ...clientHeaders, ...callOptions.headers }))
    metadata.set(key, value);
  return metadata;
}

/** Cancels `call` when the caller's signal or the parent's signal aborts; returns the unlink. */
export function linkCancellation(call: { cancel(): void }, callOptions: CallOptions): () => void {
  const signals = [callOptions.signal, callOptions.parent?.signal].filter(
    (s): s is AbortSignal => s !== undefined,
  );
  const cancel = () => call.cancel();
  for (const signal of signals) {
    if (signal.aborted) queueMicrotask(cancel);
    else signal.addEventListener('abort', cancel, { once: true });
  }
  return () => signals.forEach((signal) => signal.removeEventListener('abort', cancel));
}

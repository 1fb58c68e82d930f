import type {
  Metadata,
  ServerDuplexStream,
  ServerReadableStream,
  ServerUnaryCall,
  ServerWritableStream,
} from '@grpc/grpc-js';
import type { DescMethod } from '@bufbuild/protobuf';

/** Any grpc-js server call. */
export type ServerSurfaceCall =
  | ServerUnaryCall<unknown, unknown>
  | ServerReadableStream<unknown, unknown>
  | ServerWritableStream<unknown, unknown>
  | ServerDuplexStream<unknown, unknown>;

/**
 * What a handler knows about the call it serves. Pass it as `parent` to the calls it makes so the
 * deadline and cancellation flow downstream.
 */
export interface CallContext {
  /** The method being served. */
  readonly method: DescMethod;
  /** Aborted when the client cancels, the deadline passes, or the server shuts down hard. */
  readonly signal: AbortSignal;
  /**
   * Aborted when the server starts a graceful shutdown. Unary calls should finish normally;
   * long-lived streams (watches) should end, so that the drain does not wait on them.
   */
  readonly draining: AbortSignal;
  /** Absolute deadline in epoch milliseconds, or Infinity when the client set none. */
  readonly deadline: number;
  /** Request headers (lower-case keys; `-bin` keys hold binary values). */
  readonly requestHeaders: ReadonlyMap<string, string | Buffer>;
  /** Address of the peer, e.g. `ipv4:127.0.0.1:53514`. */
  readonly peer: string;
  /** Milliseconds left before the deadline (Infinity without one; never negative). */
  remainingMs(): number;
  /** The grpc-js call; used by the client to propagate deadline and cancellation. @internal */
  readonly rawCall: ServerSurfaceCall;
}

function toEpochMs(deadline: Date | number): number {
  return deadline instanceof Date ? deadline.getTime() : deadline;
}

function headersOf(metadata: Metadata): Map<string, string | Buffer> {
  const headers = new Map<string, string | Buffer>();
  for (const [key, value] of Object.entries(metadata.getMap())) headers.set(key, value);
  return headers;
}

/**
 * Builds the context for a server call. The signal aborts on client cancellation and also when
 * the deadline passes, so handlers stop work that nobody waits for any more.
 */
export function createCallContext(
  method: DescMethod,
  call: ServerSurfaceCall,
  draining: AbortSignal,
): { context: CallContext; dispose: () => void } {
  const controller = new AbortController();
  const deadline = toEpochMs(call.getDeadline());
  const onCancelled = () => controller.abort(new Error('the call was cancelled by the client'));
  const events = call as unknown as NodeJS.EventEmitter;
  events.on('cancelled', onCancelled);
  let timer: NodeJS.Timeout | undefined;
  if (Number.isFinite(deadline)) {
    const delay = Math.max(0, deadline - Date.now());
    timer = setTimeout(() => controller.abort(new Error('the deadline was exceeded')), delay);
    timer.unref();
  }
  const context: CallContext = {
    method,
    signal: controller.signal,
    draining,
    deadline,
    requestHeaders: headersOf(call.metadata),
    peer: call.getPeer(),
    remainingMs: () => (Number.isFinite(deadline) ? Math.max(0, deadline - Date.now()) : Infinity),
    rawCall: call,
  };
  const dispose = () => {
    if (timer) clearTimeout(timer);
    events.removeListener('cancelled', onCancelled);
  };
  return { context, dispose };
}

const logFields = new WeakMap<CallContext, Readonly<Record<string, unknown>>>();

/**
 * Adds fields (e.g. the authenticated tenant, set by an interceptor) to the lines the server
 * writes about this call — the error line of a call that failed with INTERNAL.
 */
export function annotateCall(
  context: CallContext,
  fields: Readonly<Record<string, unknown>>,
): void {
  logFields.set(context, { ...logFields.get(context), ...fields });
}

/** The fields {@link annotateCall} added to the call (none: an empty object). */
export function callLogFields(context: CallContext): Readonly<Record<string, unknown>> {
  return logFields.get(context) ?? {};
}

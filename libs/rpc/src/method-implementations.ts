import { once } from 'node:events';
import type {
  sendUnaryData,
  ServerDuplexStream,
  ServerReadableStream,
  ServerUnaryCall,
  ServerWritableStream,
  UntypedHandleCall,
  UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type { DescMethod, DescService } from '@bufbuild/protobuf';
import type { CallContext } from './call-context.js';
import type { RunCall } from './call-runner.js';
import type { ServiceHandlers } from './handler-types.js';
import { decodedOrThrow, decodedStream } from './undecodable-message.js';

type Handler = (input: unknown, context: CallContext) => unknown;
type AnsweredCall = ServerUnaryCall<unknown, unknown> | ServerReadableStream<unknown, unknown>;
type StreamedCall = ServerWritableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>;

/** The grpc-js implementation of a service: each method runs its handler through `run`. */
export function implementationFor<S extends DescService>(
  service: S,
  handlers: ServiceHandlers<S>,
  run: RunCall,
): UntypedServiceImplementation {
  const implementation: UntypedServiceImplementation = {};
  const table = handlers as Record<string, Handler>;
  for (const method of service.methods) {
    const handler = table[method.localName];
    if (typeof handler !== 'function') {
      throw new Error(`${service.typeName}: no handler for ${method.name}`);
    }
    implementation[method.localName] = methodImplementation(method, handler, run);
  }
  return implementation;
}

/**
 * One method by its kind: the handler takes the decoded request (unary, server streaming) or the
 * call as a stream of requests (client, bidi streaming); it answers once (unary, client
 * streaming) or with a stream (server, bidi streaming). Interceptors see a decoded request only.
 */
function methodImplementation(method: DescMethod, handler: Handler, run: RunCall) {
  const streamsRequests =
    method.methodKind === 'client_streaming' || method.methodKind === 'bidi_streaming';
  const streamsAnswers =
    method.methodKind === 'server_streaming' || method.methodKind === 'bidi_streaming';
  const requestOf = (call: AnsweredCall | StreamedCall) =>
    streamsRequests ? undefined : (call as ServerUnaryCall<unknown, unknown>).request;
  const inputOf = (call: AnsweredCall | StreamedCall) =>
    streamsRequests
      ? decodedStream(call as AsyncIterable<unknown>)
      : decodedOrThrow(requestOf(call));

  if (streamsAnswers)
    return ((call: StreamedCall) =>
      run(
        method,
        call,
        async (context) => {
          await writeAll(
            call,
            handler(inputOf(call), context) as AsyncIterable<unknown>,
            context.signal,
          );
          call.end();
        },
        (error) => call.emit('error', error.toStatus()),
        requestOf(call),
      )) as UntypedHandleCall;
  return ((call: AnsweredCall, callback: sendUnaryData<unknown>) =>
    run(
      method,
      call,
      async (context) =>
        callback(null, await (handler(inputOf(call), context) as Promise<unknown>)),
      (error) => callback(error.toStatus()),
      requestOf(call),
    )) as UntypedHandleCall;
}

async function writeAll(
  call: StreamedCall,
  messages: AsyncIterable<unknown>,
  signal: AbortSignal,
): Promise<void> {
  for await (const message of messages) {
    if (signal.aborted) return;
    if (!call.write(message)) await once(call, 'drain', { signal });
  }
}

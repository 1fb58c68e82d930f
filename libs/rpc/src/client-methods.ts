import type {
  Client,
  ClientReadableStream,
  ClientWritableStream,
  Metadata,
  CallOptions as GrpcCallOptions,
  ServiceError,
} from '@grpc/grpc-js';
import { create, type DescMethod } from '@bufbuild/protobuf';
import { callMetadata, grpcCallOptions, linkCancellation } from './client-call-options.js';
import type { CallOptions } from './handler-types.js';
import { RpcError } from './rpc-error.js';

export type GenericClient = Client & Record<string, (...args: unknown[]) => unknown>;

/** The grpc-js client and what every call takes from the client's options. */
export interface ClientChannel {
  readonly client: GenericClient;
  readonly defaultTimeoutMs: number | undefined;
  readonly headers: Readonly<Record<string, string | Buffer>> | undefined;
}

type Answer = (error: ServiceError | null, response: unknown) => void;

/** The client method of one RPC, by its kind. */
export function clientMethod(channel: ClientChannel, method: DescMethod): unknown {
  switch (method.methodKind) {
    case 'unary':
      return unary(channel, method);
    case 'server_streaming':
      return serverStreaming(channel, method);
    case 'client_streaming':
      return clientStreaming(channel, method);
    case 'bidi_streaming':
      return () => {
        throw new Error(
          `${method.name}: bidirectional streaming is not supported by this client yet`,
        );
      };
  }
}

function unary(channel: ClientChannel, method: DescMethod) {
  return (request: object, callOptions: CallOptions = {}) =>
    answeredOnce(channel, callOptions, (metadata, grpcOptions, answer) =>
      channel.client[method.localName](
        create(method.input, request as never),
        metadata,
        grpcOptions,
        answer,
      ),
    );
}

function serverStreaming({ client, ...defaults }: ClientChannel, method: DescMethod) {
  return async function* (request: object, callOptions: CallOptions = {}) {
    const call = client[method.localName](
      create(method.input, request as never),
      callMetadata(defaults.headers, callOptions),
      grpcCallOptions(callOptions, defaults.defaultTimeoutMs),
    ) as ClientReadableStream<unknown>;
    const unlink = linkCancellation(call, callOptions);
    try {
      for await (const message of call) yield message;
    } catch (error) {
      throw RpcError.from(error);
    } finally {
      unlink();
      call.cancel();
    }
  };
}

function clientStreaming(channel: ClientChannel, method: DescMethod) {
  return (requests: AsyncIterable<object> | Iterable<object>, callOptions: CallOptions = {}) =>
    answeredOnce(
      channel,
      callOptions,
      (metadata, grpcOptions, answer) =>
        channel.client[method.localName](metadata, grpcOptions, answer),
      (call, reject) =>
        void upload(call as ClientWritableStream<unknown>, method, requests, reject),
    );
}

/**
 * Starts a call that answers once (unary, client streaming): resolves with its response or
 * rejects with an RpcError; the caller's and the parent's signals cancel it.
 */
function answeredOnce(
  channel: ClientChannel,
  callOptions: CallOptions,
  start: (metadata: Metadata, grpcOptions: GrpcCallOptions, answer: Answer) => unknown,
  started?: (call: { cancel(): void }, reject: (error: Error) => void) => void,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let unlink = () => {};
    const call = start(
      callMetadata(channel.headers, callOptions),
      grpcCallOptions(callOptions, channel.defaultTimeoutMs),
      (error, response) => {
        unlink();
        if (error) reject(RpcError.from(error));
        else resolve(response);
      },
    ) as { cancel(): void };
    unlink = linkCancellation(call, callOptions);
    started?.(call, reject);
  });
}

/** Writes the caller's requests, waiting when the stream is full, then ends the upload. */
async function upload(
  call: ClientWritableStream<unknown>,
  method: DescMethod,
  requests: AsyncIterable<object> | Iterable<object>,
  reject: (error: Error) => void,
): Promise<void> {
  try {
    for await (const request of requests) {
      if (!call.write(create(method.input, request as never))) {
        await new Promise((r) => call.once('drain', r));
      }
    }
    call.end();
  } catch (error) {
    // The caller's request stream failed: abandon the upload so the server sees CANCELLED.
    call.cancel();
    reject(error instanceof Error ? error : new Error(String(error)));
  }
}

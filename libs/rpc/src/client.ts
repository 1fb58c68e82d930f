import {
  Metadata,
  makeGenericClientConstructor,
  type CallOptions as GrpcCallOptions,
  type ChannelOptions,
  type Client,
  type ClientReadableStream,
  type ClientWritableStream,
  type ServiceError,
} from '@grpc/grpc-js';
import { create, type DescMethod, type DescService } from '@bufbuild/protobuf';
import type { CallOptions, RpcClient } from './handler-types.js';
import { RpcError } from './rpc-error.js';
import { toServiceDefinition } from './service-definition.js';
import { channelCredentials, type TlsOptions } from './credentials.js';

export interface RpcClientOptions {
  /** `host:port`, or a target such as `dns:///scoring:50053` or `ipv4:127.0.0.1:1,127.0.0.1:2`. */
  readonly address: string;
  /** Default time allowed for each call when the caller gives no deadline (ms). */
  readonly defaultTimeoutMs?: number;
  /** Largest response accepted, in bytes. Default 4 MiB. */
  readonly maxReceiveMessageBytes?: number;
  /** Largest request sent, in bytes. Default 4 MiB. */
  readonly maxSendMessageBytes?: number;
  /** A gRPC service config (load balancing, retry policy, throttling), as an object. */
  readonly serviceConfig?: object;
  /** TLS to the server (with a client certificate for mTLS). Plaintext when absent. */
  readonly tls?: TlsOptions;
  /** Longest wait between reconnection attempts to an unreachable server (ms). Default 1 s. */
  readonly maxReconnectBackoffMs?: number;
  /** Headers sent with every call (e.g. credentials). */
  readonly headers?: Readonly<Record<string, string | Buffer>>;
}

type GenericClient = Client & Record<string, (...args: unknown[]) => unknown>;

/**
 * A typed promise client for a protobuf-es service over grpc-js. Each RPC becomes a method taking
 * the request (a message or a plain init object) and {@link CallOptions}.
 */
export function createRpcClient<S extends DescService>(
  service: S,
  options: RpcClientOptions,
): RpcClient<S> {
  const channelOptions: ChannelOptions = {
    'grpc.max_receive_message_length': options.maxReceiveMessageBytes ?? 4 * 1024 * 1024,
    'grpc.max_send_message_length': options.maxSendMessageBytes ?? 4 * 1024 * 1024,
    // Services restart in seconds; grpc-js would otherwise back off up to 2 minutes between
    // reconnection attempts and keep failing calls long after the peer is back.
    'grpc.initial_reconnect_backoff_ms': 100,
    'grpc.max_reconnect_backoff_ms': options.maxReconnectBackoffMs ?? 1_000,
  };
  if (options.serviceConfig)
    channelOptions['grpc.service_config'] = JSON.stringify(options.serviceConfig);
  const Constructor = makeGenericClientConstructor(toServiceDefinition(service), service.typeName);
  const client = new Constructor(
    options.address,
    channelCredentials(options.tls),
    channelOptions,
  ) as unknown as GenericClient;

  const callOptionsFor = (callOptions: CallOptions): GrpcCallOptions => {
    const grpcOptions: GrpcCallOptions = {};
    const timeoutMs =
      callOptions.timeoutMs ?? (callOptions.parent ? undefined : options.defaultTimeoutMs);
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
  };

  const metadataFor = (callOptions: CallOptions): Metadata => {
    const metadata = new Metadata();
    for (const [key, value] of Object.entries({ ...options.headers, ...callOptions.headers }))
      metadata.set(key, value);
    return metadata;
  };

  // Cancels `call` when the caller's signal or the parent's signal aborts.
  const linkCancellation = (call: { cancel(): void }, callOptions: CallOptions): (() => void) => {
    const signals = [callOptions.signal, callOptions.parent?.signal].filter(
      (s): s is AbortSignal => s !== undefined,
    );
    const cancel = () => call.cancel();
    for (const signal of signals) {
      if (signal.aborted) queueMicrotask(cancel);
      else signal.addEventListener('abort', cancel, { once: true });
    }
    return () => signals.forEach((signal) => signal.removeEventListener('abort', cancel));
  };

  const unary =
    (method: DescMethod) =>
    (request: object, callOptions: CallOptions = {}) =>
      new Promise((resolve, reject) => {
        let unlink = () => {};
        const call = client[method.localName](
          create(method.input, request as never),
          metadataFor(callOptions),
          callOptionsFor(callOptions),
          (error: ServiceError | null, response: unknown) => {
            unlink();
            if (error) reject(RpcError.from(error));
            else resolve(response);
          },
        ) as { cancel(): void };
        unlink = linkCancellation(call, callOptions);
      });

  const serverStreaming = (method: DescMethod) =>
    async function* (request: object, callOptions: CallOptions = {}) {
      const call = client[method.localName](
        create(method.input, request as never),
        metadataFor(callOptions),
        callOptionsFor(callOptions),
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

  const clientStreaming =
    (method: DescMethod) =>
    (requests: AsyncIterable<object> | Iterable<object>, callOptions: CallOptions = {}) =>
      new Promise((resolve, reject) => {
        let unlink = () => {};
        const call = client[method.localName](
          metadataFor(callOptions),
          callOptionsFor(callOptions),
          (error: ServiceError | null, response: unknown) => {
            unlink();
            if (error) reject(RpcError.from(error));
            else resolve(response);
          },
        ) as ClientWritableStream<unknown>;
        unlink = linkCancellation(call, callOptions);
        void (async () => {
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
        })();
      });

  const methods: Record<string, unknown> = {};
  for (const method of service.methods) {
    switch (method.methodKind) {
      case 'unary':
        methods[method.localName] = unary(method);
        break;
      case 'server_streaming':
        methods[method.localName] = serverStreaming(method);
        break;
      case 'client_streaming':
        methods[method.localName] = clientStreaming(method);
        break;
      case 'bidi_streaming':
        methods[method.localName] = () => {
          throw new Error(
            `${method.name}: bidirectional streaming is not supported by this client yet`,
          );
        };
        break;
    }
  }
  methods['close'] = () => client.close();
  methods['waitForReady'] = (timeoutMs: number) =>
    new Promise<void>((resolve, reject) =>
      client.waitForReady(new Date(Date.now() + timeoutMs), (error) =>
        error ? reject(error) : resolve(),
      ),
    );
  return methods as RpcClient<S>;
}

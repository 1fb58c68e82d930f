import { makeGenericClientConstructor, type ChannelOptions } from '@grpc/grpc-js';
import type { DescService } from '@bufbuild/protobuf';
import { clientMethod, type GenericClient } from './client-methods.js';
import type { RpcClient } from './handler-types.js';
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

/**
 * A typed promise client for a protobuf-es service over grpc-js. Each RPC becomes a method taking
 * the request (a message or a plain init object) and its `CallOptions`.
 */
export function createRpcClient<S extends DescService>(
  service: S,
  options: RpcClientOptions,
): RpcClient<S> {
  const Constructor = makeGenericClientConstructor(toServiceDefinition(service), service.typeName);
  const client = new Constructor(
    options.address,
    channelCredentials(options.tls),
    channelOptions(options),
  ) as unknown as GenericClient;
  const channel = { client, defaultTimeoutMs: options.defaultTimeoutMs, headers: options.headers };
  const methods: Record<string, unknown> = {};
  for (const method of service.methods) methods[method.localName] = clientMethod(channel, method);
  methods['close'] = () => client.close();
  methods['waitForReady'] = (timeoutMs: number) =>
    new Promise<void>((resolve, reject) =>
      client.waitForReady(new Date(Date.now() + timeoutMs), (error) =>
        error ? reject(error) : resolve(),
      ),
    );
  return methods as RpcClient<S>;
}

function channelOptions(options: RpcClientOptions): ChannelOptions {
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
  return channelOptions;
}

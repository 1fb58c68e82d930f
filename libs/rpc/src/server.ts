import { Server, ServerCredentials } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { ReflectionService } from '@grpc/reflection';
import type { DescMethod, DescService } from '@bufbuild/protobuf';
import { createCallRunner } from './call-runner.js';
import type { ServerInterceptor, ServiceHandlers } from './handler-types.js';
import { implementationFor } from './method-implementations.js';
import { reflectionPackageDefinition } from './reflection.js';
import { methodPath, toServiceDefinition } from './service-definition.js';
import type { RpcLogger } from './logger.js';
import { serverCredentials, type TlsOptions } from './credentials.js';
import { earlyRefusalInterceptor, type EarlyRefusal } from './early-refusal.js';
import { shutDownGracefully, type ShutdownOptions } from './server-shutdown.js';

export type { ShutdownOptions } from './server-shutdown.js';

export interface RpcServerOptions {
  /** Name used in logs, e.g. `gateway`. */
  readonly name: string;
  readonly logger: RpcLogger;
  /** Largest request accepted, in bytes (larger → RESOURCE_EXHAUSTED). Default 4 MiB. */
  readonly maxReceiveMessageBytes?: number;
  /** Largest response sent, in bytes. Default 4 MiB. */
  readonly maxSendMessageBytes?: number;
  /** Run around every handler, outermost first. */
  readonly interceptors?: readonly ServerInterceptor[];
  /** Serve TLS (and require client certificates when `tls.ca` is set). Plaintext when absent. */
  readonly tls?: TlsOptions;
  /**
   * Asked when a call's headers arrive, before anything else runs: a returned error is the
   * call's answer (load shedding at the least cost). Not asked for health and reflection.
   */
  readonly refuseEarly?: EarlyRefusal;
}

export interface RpcServer {
  /** Adds a service with one handler per method. Call before `listen`. */
  register<S extends DescService>(service: S, handlers: ServiceHandlers<S>): void;
  /** Binds `host:port` (port 0 picks a free one) and resolves the bound port. */
  listen(address: string): Promise<number>;
  /** Sets the health status of one service (or '' for the whole server). */
  setServing(serving: boolean, service?: string): void;
  /** Number of handler calls currently running. */
  inFlight(): number;
  /** NOT_SERVING → stop taking calls → wait for in-flight calls (bounded) → close. Idempotent. */
  shutdown(options?: ShutdownOptions): Promise<void>;
}

/** A gRPC server with health and reflection, interceptors around every handler, graceful shutdown. */
export function createRpcServer(options: RpcServerOptions): RpcServer {
  const { logger, name } = options;
  const methods = new Map<string, DescMethod>();
  const server = grpcServer(options, methods);
  const services: DescService[] = [];
  const health = new HealthImplementation({ '': 'SERVING' });
  const draining = new AbortController();
  const calls = createCallRunner({
    name,
    logger,
    interceptors: options.interceptors ?? [],
    draining: draining.signal,
  });
  let started = false;
  let stopping: Promise<void> | undefined;

  return {
    register(service, handlers) {
      if (started) throw new Error(`${name}: register ${service.typeName} before listen()`);
      server.addService(
        toServiceDefinition(service),
        implementationFor(service, handlers, calls.run),
      );
      for (const method of service.methods) methods.set(methodPath(method), method);
      services.push(service);
      health.setStatus(service.typeName, 'SERVING');
    },

    async listen(address) {
      if (!started) {
        started = true;
        health.addToServer(server);
        new ReflectionService(reflectionPackageDefinition(services)).addToServer(server);
      }
      return bind(server, address, options.tls);
    },

    setServing(serving, service = '') {
      health.setStatus(service, serving ? 'SERVING' : 'NOT_SERVING');
    },

    inFlight: calls.inFlight,

    shutdown(shutdownOptions) {
      const parts = { name, logger, server, health, services, draining, calls };
      stopping ??= shutDownGracefully(parts, shutdownOptions);
      return stopping;
    },
  };
}

/**
 * nghttp2's rapid-reset guard (CVE-2023-44487) closes a connection with GOAWAY(INTERNAL_ERROR)
 * once its client has cancelled more streams than a token bucket holds: by default a burst of
 * 1,000, refilled at 33 a second. A gRPC client cancels a stream for every call that misses its
 * deadline, so a caller with a tight deadline under load trips it, and every call in flight on
 * its connection — the healthy ones too — fails INTERNAL. The bucket here tolerates a caller that
 * cancels every call it makes at a few thousand calls a second; a flood beyond that is still cut.
 */
const STREAM_RESETS = { streamResetBurst: 10_000, streamResetRate: 5_000 };

/** The grpc-js server with the message size limits and the early refusal, if any. */
function grpcServer(options: RpcServerOptions, methods: ReadonlyMap<string, DescMethod>): Server {
  const server = new Server({
    'grpc.max_receive_message_length': options.maxReceiveMessageBytes ?? 4 * 1024 * 1024,
    'grpc.max_send_message_length': options.maxSendMessageBytes ?? 4 * 1024 * 1024,
    ...(options.refuseEarly
      ? { interceptors: [earlyRefusalInterceptor(methods, options.refuseEarly)] }
      : {}),
  });
  // grpc-js passes these options to http2.createServer but has no channel option for them.
  const http2Options = (server as unknown as { commonServerOptions?: Record<string, unknown> })
    .commonServerOptions;
  if (http2Options === undefined)
    throw new Error(
      '@grpc/grpc-js no longer keeps commonServerOptions: set STREAM_RESETS another way',
    );
  Object.assign(http2Options, STREAM_RESETS);
  return server;
}

/** Binds `address` (port 0 picks a free one) and resolves the bound port. */
function bind(server: Server, address: string, tls: TlsOptions | undefined): Promise<number> {
  const credentials = tls ? serverCredentials(tls) : ServerCredentials.createInsecure();
  return new Promise<number>((resolve, reject) => {
    server.bindAsync(address, credentials, (error, port) =>
      error ? reject(error) : resolve(port),
    );
  });
}

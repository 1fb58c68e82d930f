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

/** The grpc-js server with the message size limits and the early refusal, if any. */
function grpcServer(options: RpcServerOptions, methods: ReadonlyMap<string, DescMethod>): Server {
  return new Server({
    'grpc.max_receive_message_length': options.maxReceiveMessageBytes ?? 4 * 1024 * 1024,
    'grpc.max_send_message_length': options.maxSendMessageBytes ?? 4 * 1024 * 1024,
    ...(options.refuseEarly
      ? { interceptors: [earlyRefusalInterceptor(methods, options.refuseEarly)] }
      : {}),
  });
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

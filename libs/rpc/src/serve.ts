import type { DescService } from '@bufbuild/protobuf';
import type { ServiceHandlers } from './handler-types.js';
import type { RpcLogger } from './logger.js';
import { createRpcServer, type RpcServer, type RpcServerOptions } from './server.js';
import { exitOnSignals } from './shutdown.js';

/** A service descriptor with its handlers, type-checked together. */
export interface ServiceImplementation {
  register(server: RpcServer): void;
  readonly typeName: string;
}

export function implement<S extends DescService>(
  service: S,
  handlers: ServiceHandlers<S>,
): ServiceImplementation {
  return { typeName: service.typeName, register: (server) => server.register(service, handlers) };
}

export interface ServeOptions extends Omit<RpcServerOptions, 'logger'> {
  readonly logger: RpcLogger;
  /** `host:port` to bind. */
  readonly address: string;
  readonly services: readonly ServiceImplementation[];
  /** Run after a graceful drain on SIGTERM/SIGINT (close clients, flush telemetry). */
  readonly onStopped?: () => Promise<void> | void;
  /** Longest wait for in-flight calls on shutdown (ms). */
  readonly graceMs?: number;
}

/**
 * The standard life of a Scoregate server process: register services, bind, log where it
 * listens, and drain gracefully on SIGTERM/SIGINT before exiting 0.
 */
export async function serve(options: ServeOptions): Promise<{ server: RpcServer; port: number }> {
  const server = createRpcServer(options);
  for (const service of options.services) service.register(server);
  const port = await server.listen(options.address);
  const host = options.address.slice(0, options.address.lastIndexOf(':'));
  options.logger.info(
    { address: `${host}:${port}`, services: options.services.map((s) => s.typeName) },
    `${options.name} listening on ${host}:${port}`,
  );
  exitOnSignals(server, {
    logger: options.logger,
    ...(options.graceMs === undefined ? {} : { graceMs: options.graceMs }),
    ...(options.onStopped ? { onStopped: options.onStopped } : {}),
  });
  return { server, port };
}

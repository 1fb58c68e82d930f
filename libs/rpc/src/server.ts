import { once } from 'node:events';
import {
  Server,
  ServerCredentials,
  type sendUnaryData,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServerDuplexStream,
  type UntypedHandleCall,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { ReflectionService } from '@grpc/reflection';
import type { DescMethod, DescService } from '@bufbuild/protobuf';
import {
  callLogFields,
  createCallContext,
  type CallContext,
  type ServerSurfaceCall,
} from './call-context.js';
import type { ServerInterceptor, ServiceHandlers } from './handler-types.js';
import { reflectionPackageDefinition } from './reflection.js';
import { Code, RpcError } from './rpc-error.js';
import { methodPath, toServiceDefinition } from './service-definition.js';
import type { RpcLogger } from './logger.js';
import { serverCredentials, type TlsOptions } from './credentials.js';
import { earlyRefusalInterceptor, type EarlyRefusal } from './early-refusal.js';

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

export interface ShutdownOptions {
  /** Time to keep answering after health turns NOT_SERVING, so balancers stop sending. */
  readonly drainDelayMs?: number;
  /** Longest wait for in-flight calls before they are cut. */
  readonly graceMs?: number;
  /** After the last call finished, time for its response to be written before connections close. */
  readonly flushMs?: number;
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

type Invoke = (context: CallContext) => Promise<void>;

export function createRpcServer(options: RpcServerOptions): RpcServer {
  const { logger, name } = options;
  const maxReceive = options.maxReceiveMessageBytes ?? 4 * 1024 * 1024;
  const maxSend = options.maxSendMessageBytes ?? 4 * 1024 * 1024;
  const methods = new Map<string, DescMethod>();
  const server = new Server({
    'grpc.max_receive_message_length': maxReceive,
    'grpc.max_send_message_length': maxSend,
    ...(options.refuseEarly
      ? { interceptors: [earlyRefusalInterceptor(methods, options.refuseEarly)] }
      : {}),
  });
  const interceptors = options.interceptors ?? [];
  const services: DescService[] = [];
  const health = new HealthImplementation({ '': 'SERVING' });
  const draining = new AbortController();
  let running = 0;
  let idle: (() => void) | undefined;
  let started = false;
  let stopping: Promise<void> | undefined;

  function runHandler(
    method: DescMethod,
    call: ServerSurfaceCall,
    invoke: Invoke,
    fail: (e: RpcError) => void,
    request?: unknown,
  ): void {
    const { context, dispose } = createCallContext(method, call, draining.signal);
    running++;
    const chain = interceptors.reduceRight<() => Promise<void>>(
      (next, interceptor) => () =>
        interceptor(
          request === undefined ? { method, context } : { method, context, request },
          next,
        ),
      () => invoke(context),
    );
    chain()
      .catch((error: unknown) => {
        // A handler that gave up because its call was cancelled or ran out of time is not a bug.
        const rpcError =
          !(error instanceof RpcError) && context.signal.aborted
            ? Date.now() >= context.deadline
              ? new RpcError(Code.DEADLINE_EXCEEDED, 'the deadline was exceeded', { cause: error })
              : new RpcError(Code.CANCELLED, 'the call was cancelled', { cause: error })
            : RpcError.from(error);
        if (rpcError.code === Code.INTERNAL || rpcError.code === Code.UNKNOWN) {
          logger.error(
            { err: error, method: method.name, ...callLogFields(context) },
            `${name}: ${method.parent.name}/${method.name} failed`,
          );
        }
        fail(rpcError);
      })
      .finally(() => {
        dispose();
        running--;
        if (running === 0) idle?.();
      });
  }

  function implementationFor<S extends DescService>(
    service: S,
    handlers: ServiceHandlers<S>,
  ): UntypedServiceImplementation {
    const implementation: UntypedServiceImplementation = {};
    const table = handlers as Record<string, (...args: unknown[]) => unknown>;
    for (const method of service.methods) {
      const handler = table[method.localName];
      if (typeof handler !== 'function') {
        throw new Error(`${service.typeName}: no handler for ${method.name}`);
      }
      switch (method.methodKind) {
        case 'unary':
          implementation[method.localName] = (
            call: ServerUnaryCall<unknown, unknown>,
            callback: sendUnaryData<unknown>,
          ) =>
            runHandler(
              method,
              call,
              async (context) =>
                callback(null, await (handler(call.request, context) as Promise<unknown>)),
              (error) => callback(error.toStatus()),
              call.request,
            );
          break;
        case 'server_streaming':
          implementation[method.localName] = (call: ServerWritableStream<unknown, unknown>) =>
            runHandler(
              method,
              call,
              async (context) => {
                await writeAll(
                  call,
                  handler(call.request, context) as AsyncIterable<unknown>,
                  context.signal,
                );
                call.end();
              },
              (error) => call.emit('error', error.toStatus()),
              call.request,
            );
          break;
        case 'client_streaming':
          implementation[method.localName] = (
            call: ServerReadableStream<unknown, unknown>,
            callback: sendUnaryData<unknown>,
          ) =>
            runHandler(
              method,
              call,
              async (context) =>
                callback(
                  null,
                  await (handler(call as AsyncIterable<unknown>, context) as Promise<unknown>),
                ),
              (error) => callback(error.toStatus()),
            );
          break;
        case 'bidi_streaming':
          implementation[method.localName] = ((call: ServerDuplexStream<unknown, unknown>) =>
            runHandler(
              method,
              call,
              async (context) => {
                await writeAll(
                  call,
                  handler(call, context) as AsyncIterable<unknown>,
                  context.signal,
                );
                call.end();
              },
              (error) => call.emit('error', error.toStatus()),
            )) as UntypedHandleCall;
          break;
      }
    }
    return implementation;
  }

  return {
    register(service, handlers) {
      if (started) throw new Error(`${name}: register ${service.typeName} before listen()`);
      server.addService(toServiceDefinition(service), implementationFor(service, handlers));
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
      const credentials = options.tls
        ? serverCredentials(options.tls)
        : ServerCredentials.createInsecure();
      return new Promise<number>((resolve, reject) => {
        server.bindAsync(address, credentials, (error, port) =>
          error ? reject(error) : resolve(port),
        );
      });
    },

    setServing(serving, service = '') {
      health.setStatus(service, serving ? 'SERVING' : 'NOT_SERVING');
    },

    inFlight: () => running,

    shutdown(options) {
      stopping ??= stop(options);
      return stopping;
    },
  };

  async function stop({
    drainDelayMs = 100,
    graceMs = 10_000,
    flushMs = 250,
  }: ShutdownOptions = {}): Promise<void> {
    health.setStatus('', 'NOT_SERVING');
    for (const service of services) health.setStatus(service.typeName, 'NOT_SERVING');
    draining.abort(new Error('the server is shutting down'));
    logger.info({ inFlight: running }, `${name}: shutting down: health NOT_SERVING, draining`);
    await delay(drainDelayMs);
    // Stop taking new calls; calls already running go on.
    const closed = new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    const drained =
      running === 0 ? Promise.resolve() : new Promise<void>((resolve) => (idle = resolve));
    const timedOut = await Promise.race([
      drained.then(() => false),
      delay(graceMs).then(() => true),
    ]);
    if (timedOut)
      logger.warn({ inFlight: running }, `${name}: grace period over, cutting ${running} call(s)`);
    // Give the last responses time to reach the wire; then cut what still holds a connection
    // open (long-lived streams that are not ours, such as health Watch).
    await Promise.race([closed, delay(flushMs)]);
    server.forceShutdown();
    await closed;
    logger.info(`${name}: stopped`);
  }
}

async function writeAll(
  call: ServerWritableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>,
  messages: AsyncIterable<unknown>,
  signal: AbortSignal,
): Promise<void> {
  for await (const message of messages) {
    if (signal.aborted) return;
    if (!call.write(message)) await once(call, 'drain', { signal });
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

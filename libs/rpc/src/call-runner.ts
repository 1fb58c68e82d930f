import type { DescMethod } from '@bufbuild/protobuf';
import {
  callLogFields,
  createCallContext,
  type CallContext,
  type ServerSurfaceCall,
} from './call-context.js';
import type { ServerInterceptor } from './handler-types.js';
import type { RpcLogger } from './logger.js';
import { Code, RpcError } from './rpc-error.js';

/** The handler's work for one call, once it has its context. */
export type Invoke = (context: CallContext) => Promise<void>;

/** Runs one call: its context, the interceptors around `invoke`, `fail` with the error it ended in. */
export type RunCall = (
  method: DescMethod,
  call: ServerSurfaceCall,
  invoke: Invoke,
  fail: (error: RpcError) => void,
  request?: unknown,
) => void;

export interface CallRunnerOptions {
  /** Server name, in log lines. */
  readonly name: string;
  readonly logger: RpcLogger;
  readonly interceptors: readonly ServerInterceptor[];
  /** Aborted when the server shuts down: every call's signal follows it. */
  readonly draining: AbortSignal;
}

/** Runs a server's calls and knows how many are running. */
export interface CallRunner {
  readonly run: RunCall;
  /** Number of calls currently running. */
  inFlight(): number;
  /** Resolves when no call is running. */
  idle(): Promise<void>;
}

export function createCallRunner(options: CallRunnerOptions): CallRunner {
  const { interceptors, draining } = options;
  let running = 0;
  let onIdle: (() => void) | undefined;

  const run: RunCall = (method, call, invoke, fail, request) => {
    const { context, dispose } = createCallContext(method, call, draining);
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
      .catch((error: unknown) => fail(reportedFailure(error, method, context, options)))
      .finally(() => {
        dispose();
        running--;
        if (running === 0) onIdle?.();
      });
  };

  return {
    run,
    inFlight: () => running,
    idle: () =>
      running === 0 ? Promise.resolve() : new Promise<void>((resolve) => (onIdle = resolve)),
  };
}

/** The error a failed call answers with; a handler bug (INTERNAL, UNKNOWN) is also logged. */
function reportedFailure(
  error: unknown,
  method: DescMethod,
  context: CallContext,
  { logger, name }: CallRunnerOptions,
): RpcError {
  const rpcError = toRpcError(error, context);
  if (rpcError.code === Code.INTERNAL || rpcError.code === Code.UNKNOWN) {
    logger.error(
      { err: error, method: method.name, ...callLogFields(context) },
      `${name}: ${method.parent.name}/${method.name} failed`,
    );
  }
  return rpcError;
}

/** A handler that gave up because its call was cancelled or ran out of time is not a bug. */
function toRpcError(error: unknown, context: CallContext): RpcError {
  if (error instanceof RpcError || !context.signal.aborted) return RpcError.from(error);
  return Date.now() >= context.deadline
    ? new RpcError(Code.DEADLINE_EXCEEDED, 'the deadline was exceeded', { cause: error })
    : new RpcError(Code.CANCELLED, 'the call was cancelled', { cause: error });
}

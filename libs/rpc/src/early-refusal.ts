import {
  ServerInterceptingCall,
  ServerListenerBuilder,
  ResponderBuilder,
  type ServerInterceptor as GrpcServerInterceptor,
} from '@grpc/grpc-js';
import type { DescMethod } from '@bufbuild/protobuf';
import type { RpcError } from './rpc-error.js';

/**
 * Decides from the method and the call's deadline alone — before the request is read, decoded,
 * traced or handed to interceptors and handler — whether to refuse a call at once. Returns the
 * error to answer with, or undefined to let the call in. Meant for load shedding: a refusal made
 * here costs a small fraction of a served call, so an overloaded server can still afford it.
 */
export type EarlyRefusal = (method: DescMethod, remainingMs: number) => RpcError | undefined;

function toEpochMs(deadline: Date | number): number {
  return deadline instanceof Date ? deadline.getTime() : deadline;
}

/**
 * A grpc-js server interceptor that asks `refuse` when a call's headers arrive; a refused call
 * gets its status without its message ever being read. Methods not in `methods` (health,
 * reflection) are never refused.
 */
export function earlyRefusalInterceptor(
  methods: ReadonlyMap<string, DescMethod>,
  refuse: EarlyRefusal,
): GrpcServerInterceptor {
  return (descriptor, call) => {
    const method = methods.get(descriptor.path);
    if (!method) return new ServerInterceptingCall(call);
    const listener = new ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        const deadline = toEpochMs(call.getDeadline());
        const remainingMs = Number.isFinite(deadline)
          ? Math.max(0, deadline - Date.now())
          : Infinity;
        const error = refuse(method, remainingMs);
        if (error)
          call.sendStatus({ ...error.toStatus(), code: error.code, details: error.message });
        else next(metadata);
      })
      .build();
    return new ServerInterceptingCall(
      call,
      new ResponderBuilder().withStart((next) => next(listener)).build(),
    );
  };
}

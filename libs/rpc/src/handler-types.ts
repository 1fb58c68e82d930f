import type {
  DescMessage,
  DescMethod,
  DescService,
  MessageInitShape,
  MessageShape,
} from '@bufbuild/protobuf';
import type { CallContext } from './call-context.js';

type Init<O extends DescMessage> = MessageInitShape<O>;

/** The handler of each kind of method, from its input and output messages. */
interface HandlerSignatures<I extends DescMessage, O extends DescMessage> {
  unary: (request: MessageShape<I>, context: CallContext) => Promise<Init<O>> | Init<O>;
  server_streaming: (request: MessageShape<I>, context: CallContext) => AsyncIterable<Init<O>>;
  client_streaming: (
    requests: AsyncIterable<MessageShape<I>>,
    context: CallContext,
  ) => Promise<Init<O>>;
  bidi_streaming: (
    requests: AsyncIterable<MessageShape<I>>,
    context: CallContext,
  ) => AsyncIterable<Init<O>>;
}

/** The client method of each kind of method, from its input and output messages. */
interface ClientSignatures<I extends DescMessage, O extends DescMessage> {
  unary: (request: Init<I>, options?: CallOptions) => Promise<MessageShape<O>>;
  server_streaming: (request: Init<I>, options?: CallOptions) => AsyncIterable<MessageShape<O>>;
  client_streaming: (requests: Requests<I>, options?: CallOptions) => Promise<MessageShape<O>>;
  bidi_streaming: (requests: Requests<I>, options?: CallOptions) => AsyncIterable<MessageShape<O>>;
}

/** What a client may send as a stream of requests. */
type Requests<I extends DescMessage> = AsyncIterable<Init<I>> | Iterable<Init<I>>;

/**
 * The handler (`Side` = 'handler') or client method ('client') of a method descriptor, by the
 * method's kind, input and output.
 */
type Signature<M, Side extends 'handler' | 'client'> = M extends {
  methodKind: infer K extends DescMethod['methodKind'];
  input: infer I extends DescMessage;
  output: infer O extends DescMessage;
}
  ? (Side extends 'handler' ? HandlerSignatures<I, O> : ClientSignatures<I, O>)[K]
  : never;

/** The handler type of one method, by its kind. */
export type MethodHandler<M> = Signature<M, 'handler'>;

/** One handler per method of a service, keyed by the method's local name. */
export type ServiceHandlers<S extends DescService> = {
  [K in keyof S['method']]: MethodHandler<S['method'][K]>;
};

/** Options a client call accepts. */
export interface CallOptions {
  /** Time allowed for the call, in milliseconds from now. */
  readonly timeoutMs?: number;
  /** Absolute deadline (epoch ms); the earliest of this, `timeoutMs` and the parent's wins. */
  readonly deadline?: number;
  /** Cancels the call when aborted. */
  readonly signal?: AbortSignal;
  /** The incoming call this one serves: its deadline and cancellation propagate. */
  readonly parent?: CallContext;
  /** Request headers (ASCII; keys ending in `-bin` take Buffers). */
  readonly headers?: Readonly<Record<string, string | Buffer>>;
}

/** The client method type of one method, by its kind. */
export type ClientMethod<M> = Signature<M, 'client'>;

/** A typed promise client: one method per RPC, plus `close()`. */
export type RpcClient<S extends DescService> = {
  [K in keyof S['method']]: ClientMethod<S['method'][K]>;
} & {
  /** Closes the channel; calls in flight fail with CANCELLED/UNAVAILABLE. */
  close(): void;
  /** Resolves once the channel is connected, or rejects after `timeoutMs`. */
  waitForReady(timeoutMs: number): Promise<void>;
};

/**
 * A server-side interceptor: runs around every handler of a server, in registration order.
 * Throw an RpcError to refuse the call (e.g. UNAUTHENTICATED).
 */
export type ServerInterceptor = (
  call: {
    method: DescMethod;
    context: CallContext;
    /** The decoded request, for unary and server-streaming calls (absent for client streams). */
    request?: unknown;
  },
  next: () => Promise<void>,
) => Promise<void>;

import { fromBinary, type DescMessage } from '@bufbuild/protobuf';
import { Code, RpcError } from './rpc-error.js';

/**
 * What a server's deserializer hands over for bytes that are not a valid encoding of the
 * request type. grpc-js answers a throwing deserializer with INTERNAL; a client's garbage is the
 * client's fault, so the call instead runs its interceptors (authentication first) and then
 * fails with INVALID_ARGUMENT, never reaching the handler.
 */
export class UndecodableMessage {
  constructor(
    readonly typeName: string,
    readonly cause: unknown,
  ) {}

  error(): RpcError {
    const reason = this.cause instanceof Error ? this.cause.message : String(this.cause);
    const description = `cannot be decoded as ${this.typeName}: ${reason}`;
    return new RpcError(Code.INVALID_ARGUMENT, `request: ${description}`, {
      violations: [{ field: 'request', description }],
      cause: this.cause,
    });
  }
}

/** A request deserializer that never throws: bad bytes become an UndecodableMessage. */
export function requestDecoder(schema: DescMessage) {
  return (bytes: Buffer): unknown => {
    try {
      return fromBinary(schema, bytes);
    } catch (error) {
      return new UndecodableMessage(schema.typeName, error);
    }
  };
}

/** The request itself, or the INVALID_ARGUMENT its undecodable bytes earn. */
export function decodedOrThrow<T>(request: T): T {
  if (request instanceof UndecodableMessage) throw request.error();
  return request;
}

/** A stream of requests that ends in INVALID_ARGUMENT at the first undecodable one. */
export async function* decodedStream<T>(requests: AsyncIterable<T>): AsyncIterable<T> {
  for await (const request of requests) yield decodedOrThrow(request);
}

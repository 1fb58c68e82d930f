import type { ServiceDefinition, MethodDefinition } from '@grpc/grpc-js';
import {
  create,
  fromBinary,
  toBinary,
  type DescMessage,
  type DescMethod,
  type DescService,
} from '@bufbuild/protobuf';
import { requestDecoder } from './undecodable-message.js';

/** The HTTP/2 path of a method, e.g. `/scoregate.gateway.v1.ScoreService/Score`. */
export function methodPath(method: DescMethod): string {
  return `/${method.parent.typeName}/${method.name}`;
}

function serializer(schema: DescMessage) {
  // Handlers may return a plain init object; `create` turns it into a message and is a no-op for one.
  return (value: object): Buffer => {
    const bytes = toBinary(schema, create(schema, value as never));
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

function deserializer(schema: DescMessage) {
  return (bytes: Buffer): unknown => fromBinary(schema, bytes);
}

/**
 * A grpc-js service definition built from a protobuf-es service descriptor: one entry per method,
 * keyed by the method's local (camelCase) name, encoding with protobuf-es.
 */
export function toServiceDefinition(service: DescService): ServiceDefinition {
  const definition: Record<string, MethodDefinition<object, object>> = {};
  for (const method of service.methods) {
    definition[method.localName] = {
      path: methodPath(method),
      originalName: method.name,
      requestStream:
        method.methodKind === 'client_streaming' || method.methodKind === 'bidi_streaming',
      responseStream:
        method.methodKind === 'server_streaming' || method.methodKind === 'bidi_streaming',
      requestSerialize: serializer(method.input),
      // Servers decode requests: undecodable bytes become INVALID_ARGUMENT, not INTERNAL.
      requestDeserialize: requestDecoder(method.input) as (bytes: Buffer) => object,
      responseSerialize: serializer(method.output),
      responseDeserialize: deserializer(method.output) as (bytes: Buffer) => object,
    };
  }
  return definition as ServiceDefinition;
}

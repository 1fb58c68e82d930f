import fc from 'fast-check';
import {
  create,
  fromBinary,
  toBinary,
  type DescMessage,
  type MessageInitShape,
  type MessageShape,
} from '@bufbuild/protobuf';
import { hostileBytes } from './wire-mutations.js';

/** One fuzzed call: the request messages' bytes (one for a unary or server-streaming call). */
export interface FuzzInput {
  /** `valid`: encoded from a valid-shaped message; `raw`: hostile bytes. */
  readonly kind: 'valid' | 'raw';
  readonly messages: readonly Uint8Array[];
}

/** The share of valid-shaped inputs; the rest are hostile bytes. */
const VALID_WEIGHT = 7;
const RAW_WEIGHT = 3;

/** The encoding of a message built with protobuf-es `create()` from fuzzed field values. */
export function encoded<D extends DescMessage>(
  schema: D,
  init: fc.Arbitrary<MessageInitShape<D>>,
): fc.Arbitrary<Uint8Array> {
  return init.map((fields) => toBinary(schema, create(schema, fields)));
}

/** Inputs of a call that sends one message: valid-shaped ones, and hostile bytes. */
export function singleMessageInputs<D extends DescMessage>(
  schema: D,
  init: fc.Arbitrary<MessageInitShape<D>>,
): fc.Arbitrary<FuzzInput> {
  const valid = encoded(schema, init);
  return fc.oneof(
    { weight: VALID_WEIGHT, arbitrary: valid.map((bytes) => input('valid', [bytes])) },
    { weight: RAW_WEIGHT, arbitrary: hostileBytes(valid).map((bytes) => input('raw', [bytes])) },
  );
}

/** Inputs of a client-streaming call: valid-shaped sequences, or ones with hostile messages. */
export function streamInputs(
  valid: fc.Arbitrary<Uint8Array[]>,
  oneMessage: fc.Arbitrary<Uint8Array>,
): fc.Arbitrary<FuzzInput> {
  const hostile = fc
    .tuple(valid, fc.nat(), hostileBytes(oneMessage))
    .map(([messages, at, bytes]) => {
      const copy = [...messages];
      copy.splice(at % (copy.length + 1), 0, bytes);
      return copy;
    });
  return fc.oneof(
    { weight: VALID_WEIGHT, arbitrary: valid.map((messages) => input('valid', messages)) },
    { weight: RAW_WEIGHT, arbitrary: hostile.map((messages) => input('raw', messages)) },
  );
}

function input(kind: FuzzInput['kind'], messages: readonly Uint8Array[]): FuzzInput {
  return { kind, messages };
}

/**
 * What the server decodes from the input's (first) message, or undefined when it cannot: hostile
 * bytes that happen to decode are requests like any other.
 */
export function decoded<D extends DescMessage>(
  schema: D,
  bytes: Uint8Array | undefined,
): MessageShape<D> | undefined {
  if (bytes === undefined) return undefined;
  try {
    return fromBinary(schema, bytes);
  } catch {
    return undefined;
  }
}

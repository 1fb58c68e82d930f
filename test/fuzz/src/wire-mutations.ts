import fc from 'fast-check';
import type { WireType } from '@bufbuild/protobuf/wire';
import { BinaryReader } from '@bufbuild/protobuf/wire';

/**
 * Hostile request bytes derived from valid encodings, or from nothing: what a broken client, a
 * client of another version or a port scanner sends.
 */
export function hostileBytes(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.uint8Array({ maxLength: 256 }),
    valid.chain(truncated),
    valid.chain(wrongWireType),
    valid.chain(overwritten),
    fc
      .tuple(valid, fc.uint8Array({ minLength: 1, maxLength: 16 }))
      .map(([bytes, tail]) => Buffer.concat([bytes, tail])),
  );
}

/** A valid encoding cut short. */
function truncated(bytes: Uint8Array): fc.Arbitrary<Uint8Array> {
  if (bytes.length < 2) return fc.constant(bytes);
  return fc.integer({ min: 1, max: bytes.length - 1 }).map((n) => bytes.subarray(0, n));
}

/** A valid encoding with one top-level field's tag saying another wire type. */
function wrongWireType(bytes: Uint8Array): fc.Arbitrary<Uint8Array> {
  const tags = tagOffsets(bytes);
  if (tags.length === 0) return fc.constant(bytes);
  return fc
    .tuple(fc.constantFrom(...tags), fc.integer({ min: 1, max: 7 }))
    .map(([offset, shift]) => {
      const copy = Uint8Array.from(bytes);
      const wireType = copy[offset]! & 7;
      copy[offset] = (copy[offset]! & ~7) | ((wireType + shift) % 8);
      return copy;
    });
}

/** A valid encoding with a few bytes overwritten at random. */
function overwritten(bytes: Uint8Array): fc.Arbitrary<Uint8Array> {
  if (bytes.length === 0) return fc.constant(bytes);
  const edit = fc.tuple(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 0, max: 255 }));
  return fc.array(edit, { minLength: 1, maxLength: 4 }).map((edits) => {
    const copy = Uint8Array.from(bytes);
    for (const [at, value] of edits) copy[at] = value;
    return copy;
  });
}

/** Where each top-level field's tag starts. */
function tagOffsets(bytes: Uint8Array): number[] {
  const offsets: number[] = [];
  const reader = new BinaryReader(bytes);
  try {
    while (reader.pos < reader.len) {
      offsets.push(reader.pos);
      const [, wireType] = reader.tag();
      reader.skip(wireType as WireType);
    }
  } catch {
    // A valid encoding parses to the end; nothing more to find otherwise.
  }
  return offsets;
}

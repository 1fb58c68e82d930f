import type { InferTensorContents } from '@scoregate/contracts';
import { elementCount, type Datatype, type Tensor, type TensorData } from './tensor.js';

/** Thrown when bytes or contents do not describe the tensor they claim to. */
export class TensorCodecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TensorCodecError';
  }
}

const fixedWidth: Partial<
  Record<Datatype, { bytes: number; array: (buffer: ArrayBuffer) => TensorData }>
> = {
  FP32: { bytes: 4, array: (b) => new Float32Array(b) },
  FP64: { bytes: 8, array: (b) => new Float64Array(b) },
  INT8: { bytes: 1, array: (b) => new Int8Array(b) },
  UINT8: { bytes: 1, array: (b) => new Uint8Array(b) },
  INT16: { bytes: 2, array: (b) => new Int16Array(b) },
  INT32: { bytes: 4, array: (b) => new Int32Array(b) },
  INT64: { bytes: 8, array: (b) => new BigInt64Array(b) },
};

export const DATATYPES: readonly Datatype[] = [
  'BOOL',
  'UINT8',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP32',
  'FP64',
  'BYTES',
];

export function isDatatype(value: string): value is Datatype {
  return (DATATYPES as readonly string[]).includes(value);
}

/** `count` elements of a datatype, all zero (false for BOOL, empty strings for BYTES). */
export function zeroData(datatype: Datatype, count: number): TensorData {
  if (datatype === 'BOOL') return new Array<boolean>(count).fill(false);
  if (datatype === 'BYTES') return new Array<string>(count).fill('');
  const layout = fixedWidth[datatype]!;
  return layout.array(new ArrayBuffer(count * layout.bytes));
}

/**
 * Encodes a tensor as the protocol's raw bytes: little-endian, row-major; BYTES elements each
 * prefixed by a 4-byte little-endian length; BOOL one byte each.
 */
export function encodeRaw(tensor: Tensor): Uint8Array {
  const data = tensor.data;
  if (tensor.datatype === 'BYTES') {
    const parts = (data as string[]).map((s) => Buffer.from(s, 'utf8'));
    const out = Buffer.alloc(parts.reduce((n, p) => n + 4 + p.length, 0));
    let offset = 0;
    for (const part of parts) {
      out.writeUInt32LE(part.length, offset);
      part.copy(out, offset + 4);
      offset += 4 + part.length;
    }
    return out;
  }
  if (tensor.datatype === 'BOOL') return Uint8Array.from(data as boolean[], (b) => (b ? 1 : 0));
  const view = data as Exclude<TensorData, boolean[] | string[]>;
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/** Decodes raw bytes into a tensor of the given type and shape; the byte count must match. */
export function decodeRaw(
  datatype: Datatype,
  shape: readonly number[],
  bytes: Uint8Array,
  name = 'tensor',
): Tensor {
  const count = elementCount(shape);
  if (datatype === 'BYTES') {
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const values: string[] = [];
    let offset = 0;
    while (offset < buffer.length) {
      if (offset + 4 > buffer.length)
        throw new TensorCodecError(`${name}: truncated BYTES element length`);
      const length = buffer.readUInt32LE(offset);
      if (offset + 4 + length > buffer.length)
        throw new TensorCodecError(`${name}: truncated BYTES element`);
      values.push(buffer.toString('utf8', offset + 4, offset + 4 + length));
      offset += 4 + length;
    }
    if (values.length !== count)
      throw new TensorCodecError(
        `${name}: shape [${shape.join(',')}] needs ${count} elements, raw data holds ${values.length}`,
      );
    return { datatype, shape, data: values };
  }
  if (datatype === 'BOOL') {
    if (bytes.length !== count)
      throw new TensorCodecError(
        `${name}: shape [${shape.join(',')}] needs ${count} bytes of BOOL, got ${bytes.length}`,
      );
    return { datatype, shape, data: Array.from(bytes, (b) => b !== 0) };
  }
  const layout = fixedWidth[datatype];
  if (!layout) throw new TensorCodecError(`${name}: unsupported datatype ${datatype}`);
  if (bytes.length !== count * layout.bytes) {
    throw new TensorCodecError(
      `${name}: shape [${shape.join(',')}] of ${datatype} needs ${count * layout.bytes} bytes, got ${bytes.length}`,
    );
  }
  // Copy into an aligned buffer: protobuf slices may start at any offset.
  const aligned = new ArrayBuffer(bytes.length);
  new Uint8Array(aligned).set(bytes);
  return { datatype, shape, data: layout.array(aligned) };
}

/** Each datatype's elements from the field of `contents` that holds them. */
const fromContents: Record<Datatype, (contents: InferTensorContents) => TensorData> = {
  FP32: (c) => Float32Array.from(c.fp32Contents),
  FP64: (c) => Float64Array.from(c.fp64Contents),
  INT8: (c) => Int8Array.from(c.intContents),
  INT16: (c) => Int16Array.from(c.intContents),
  INT32: (c) => Int32Array.from(c.intContents),
  UINT8: (c) => Uint8Array.from(c.uintContents),
  INT64: (c) => BigInt64Array.from(c.int64Contents),
  BOOL: (c) => [...c.boolContents],
  BYTES: (c) => c.bytesContents.map((b) => Buffer.from(b).toString('utf8')),
};

/** Decodes the typed `contents` form of a tensor (used by clients that do not send raw bytes). */
export function decodeContents(
  datatype: Datatype,
  shape: readonly number[],
  contents: InferTensorContents,
  name = 'tensor',
): Tensor {
  const count = elementCount(shape);
  const data = fromContents[datatype](contents);
  if (data.length !== count) {
    throw new TensorCodecError(
      `${name}: shape [${shape.join(',')}] needs ${count} elements, contents hold ${data.length}`,
    );
  }
  return { datatype, shape, data };
}

/** Reads element `index` of a numeric tensor as a JavaScript number. */
export function numberAt(tensor: Tensor, index: number): number {
  const value = tensor.data[index];
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return value;
  throw new TensorCodecError(`element ${index} of a ${tensor.datatype} tensor is not numeric`);
}

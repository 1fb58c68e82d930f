import { create } from '@bufbuild/protobuf';
import { InferTensorContentsSchema } from '@scoregate/contracts';
import { describe, expect, it } from 'vitest';
import {
  DATATYPES,
  TensorCodecError,
  decodeContents,
  decodeRaw,
  encodeRaw,
  zeroData,
} from './index.js';

describe('raw tensor codec', () => {
  it('round-trips FP32, INT64, BOOL and BYTES tensors through raw bytes', () => {
    const fp32 = {
      datatype: 'FP32',
      shape: [2, 2],
      data: new Float32Array([1.5, -2, 0.25, 3]),
    } as const;
    expect(Array.from(decodeRaw('FP32', [2, 2], encodeRaw(fp32)).data as Float32Array)).toEqual([
      1.5, -2, 0.25, 3,
    ]);
    const int64 = {
      datatype: 'INT64',
      shape: [3],
      data: new BigInt64Array([1n, -2n, 2n ** 40n]),
    } as const;
    expect(Array.from(decodeRaw('INT64', [3], encodeRaw(int64)).data as BigInt64Array)).toEqual([
      1n,
      -2n,
      2n ** 40n,
    ]);
    expect(
      decodeRaw('BOOL', [2], encodeRaw({ datatype: 'BOOL', shape: [2], data: [true, false] })).data,
    ).toEqual([true, false]);
    expect(
      decodeRaw('BYTES', [2], encodeRaw({ datatype: 'BYTES', shape: [2], data: ['héllo', ''] }))
        .data,
    ).toEqual(['héllo', '']);
  });

  it('decodes from an unaligned slice of a larger buffer', () => {
    const bytes = encodeRaw({ datatype: 'FP32', shape: [1], data: new Float32Array([7.5]) });
    const padded = new Uint8Array(bytes.length + 1);
    padded.set(bytes, 1);
    expect(Array.from(decodeRaw('FP32', [1], padded.subarray(1)).data as Float32Array)).toEqual([
      7.5,
    ]);
  });

  it('refuses raw data whose size does not match the shape, naming the tensor', () => {
    expect(() => decodeRaw('FP32', [2, 8], new Uint8Array(60), 'features')).toThrow(
      new TensorCodecError('features: shape [2,8] of FP32 needs 64 bytes, got 60'),
    );
  });

  it('decodes typed contents and checks the element count', () => {
    const contents = create(InferTensorContentsSchema, { fp32Contents: [1, 2, 3, 4] });
    expect(Array.from(decodeContents('FP32', [1, 4], contents).data as Float32Array)).toEqual([
      1, 2, 3, 4,
    ]);
    expect(() => decodeContents('FP32', [1, 8], contents, 'features')).toThrow(
      'features: shape [1,8] needs 8 elements, contents hold 4',
    );
  });
});

describe('zero data', () => {
  it.each(DATATYPES)('%s: the count asked for, every element zero, false or empty', (datatype) => {
    const data = zeroData(datatype, 3);
    const zero =
      datatype === 'BOOL' ? false : datatype === 'BYTES' ? '' : datatype === 'INT64' ? 0n : 0;
    expect(Array.from(data as ArrayLike<unknown>)).toEqual([zero, zero, zero]);
    // The same kind of data the codec decodes for that datatype.
    const decoded = decodeRaw(datatype, [3], encodeRaw({ datatype, shape: [3], data })).data;
    expect(data.constructor).toBe(decoded.constructor);
  });
});

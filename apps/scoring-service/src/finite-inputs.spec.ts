import { describe, expect, it } from 'vitest';
import { Code, RpcError } from '@scoregate/rpc';
import { firstNonFinite, refuseNonFinite, type NonFiniteRule } from './finite-inputs.js';

const strict: NonFiniteRule = { inputs: new Set(), label: 'model "m" version "2"' };
const refusal = (run: () => void) => {
  try {
    run();
  } catch (error) {
    return error as RpcError;
  }
  return undefined;
};

describe('firstNonFinite', () => {
  it('finds the first NaN or infinity, and -1 when every element is finite', () => {
    expect(firstNonFinite(new Float32Array([0, -0, 3.4e38, -1e-45]))).toBe(-1);
    expect(firstNonFinite(new Float32Array([1, 2, Number.NaN, Infinity]))).toBe(2);
    expect(firstNonFinite(new Float64Array([1, -Infinity]))).toBe(1);
    expect(firstNonFinite(new Float64Array([Number.MAX_VALUE, Number.NaN]))).toBe(1);
  });
});

describe('refuseNonFinite', () => {
  it('names an FP64 element by its typed-contents field and its position in each dimension', () => {
    const data = new Float64Array(2 * 3 * 2);
    data[9] = Infinity;
    const error = refusal(() =>
      refuseNonFinite(
        { datatype: 'FP64', shape: [2, 3, 2], data },
        'x',
        { index: 1, raw: false },
        strict,
      ),
    );
    expect(error).toBeInstanceOf(RpcError);
    expect(error?.code).toBe(Code.INVALID_ARGUMENT);
    expect(error?.message).toBe(
      'inputs[1].contents.fp64_contents[9]: input "x" holds Infinity at element [1,1,1] (index 9); model "m" version "2" accepts finite values only: send a finite value, or register a version whose input declares accepts_non_finite',
    );
  });

  it('lets NaN through for an input the version declares, and ignores other datatypes', () => {
    const nan = new Float32Array([Number.NaN]);
    const lenient: NonFiniteRule = { inputs: new Set(['x']), label: 'model "m" version "2"' };
    expect(
      refusal(() =>
        refuseNonFinite(
          { datatype: 'FP32', shape: [1], data: nan },
          'x',
          { index: 0, raw: true },
          lenient,
        ),
      ),
    ).toBeUndefined();
    expect(
      refusal(() =>
        refuseNonFinite(
          { datatype: 'INT32', shape: [1], data: new Int32Array([7]) },
          'y',
          { index: 0, raw: true },
          strict,
        ),
      ),
    ).toBeUndefined();
  });
});

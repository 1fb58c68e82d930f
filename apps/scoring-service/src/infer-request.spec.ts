import { create } from '@bufbuild/protobuf';
import { ModelInferRequestSchema } from '@scoregate/contracts';
import { Code, type RpcError } from '@scoregate/rpc';
import { describe, expect, it } from 'vitest';
import { decodeInferInputs } from './infer-request.js';

const signature = [{ name: 'features', datatype: 'FP32' as const, shape: [-1, 2] }];
const strict = { inputs: new Set<string>(), label: 'model "m" version "1"' };
const refusal = (names: string[]) => {
  const request = create(ModelInferRequestSchema, {
    modelName: 'm',
    inputs: names.map((name) => ({
      name,
      datatype: 'FP32',
      shape: [1n, 2n],
      contents: { fp32Contents: [1, 2] },
    })),
  });
  try {
    decodeInferInputs(request, signature, strict);
  } catch (error) {
    return error as RpcError;
  }
  return undefined;
};

describe('decodeInferInputs', () => {
  it('names an input the model does not have, whatever the name — an Object property too', () => {
    for (const name of ['constructor', 'toString', '__proto__', 'nope']) {
      const error = refusal([name]);
      expect(error?.code).toBe(Code.INVALID_ARGUMENT);
      expect(error?.message).toBe(
        `inputs[0].name: model "m" has no input "${name}"; its inputs are "features"`,
      );
    }
  });

  it('refuses an input given twice, naming the second', () => {
    const error = refusal(['features', 'features']);
    expect(error?.message).toBe('inputs[1].name: input "features" is given twice');
  });

  it('decodes the inputs of the signature', () => {
    expect(refusal(['features'])).toBeUndefined();
  });
});

import { create } from '@bufbuild/protobuf';
import { InferTensorContentsSchema, type ModelInferRequest } from '@scoregate/contracts';
import { RpcError } from '@scoregate/rpc';
import {
  TensorCodecError,
  decodeContents,
  decodeRaw,
  isDatatype,
  type Tensor,
  type TensorMetadata,
} from '@scoregate/inference-protocol';
import { refuseNonFinite, type NonFiniteRule } from './finite-inputs.js';

const formatShape = (shape: readonly number[]) => `[${shape.join(',')}]`;

function shapeMatches(actual: readonly number[], expected: readonly number[]): boolean {
  return (
    actual.length === expected.length &&
    actual.every((d, i) => expected[i] === -1 || expected[i] === d)
  );
}

/**
 * Turns the inputs of a ModelInferRequest into tensors for the model, checking each against the
 * model's signature: names, datatypes, shapes and data size, and finite floating-point elements
 * unless `nonFinite` lets the input have others. Errors name the input at fault.
 */
export function decodeInferInputs(
  request: ModelInferRequest,
  signature: readonly TensorMetadata[],
  nonFinite: NonFiniteRule,
): Record<string, Tensor> {
  const useRaw = request.rawInputContents.length > 0;
  if (useRaw && request.rawInputContents.length !== request.inputs.length) {
    throw RpcError.invalidArgument(
      'raw_input_contents',
      `holds ${request.rawInputContents.length} entries for ${request.inputs.length} inputs; give one per input, in order`,
    );
  }
  const feeds: Record<string, Tensor> = {};
  request.inputs.forEach((input, index) => {
    if (Object.hasOwn(feeds, input.name))
      throw RpcError.invalidArgument(
        `inputs[${index}].name`,
        `input "${input.name}" is given twice`,
      );
    const { expected, shape } = checkInput(request, index, signature);
    const tensor = decodeInput(request, index, expected, shape, useRaw);
    refuseNonFinite(tensor, input.name, { index, raw: useRaw }, nonFinite);
    feeds[input.name] = tensor;
  });
  for (const expected of signature) {
    if (!Object.hasOwn(feeds, expected.name)) {
      throw RpcError.invalidArgument(
        'inputs',
        `missing input "${expected.name}" (${expected.datatype} ${formatShape(expected.shape)})`,
      );
    }
  }
  return feeds;
}

type InferInput = ModelInferRequest['inputs'][number];

/** The signature entry input `index` names, once its datatype and shape match it. */
function checkInput(
  request: ModelInferRequest,
  index: number,
  signature: readonly TensorMetadata[],
): { expected: TensorMetadata; shape: number[] } {
  const input = request.inputs[index] as InferInput;
  const field = `inputs[${index}]`;
  const expected = signature.find((s) => s.name === input.name);
  if (!expected) {
    throw RpcError.invalidArgument(
      `${field}.name`,
      `model "${request.modelName}" has no input "${input.name}"; its inputs are ${signature.map((s) => `"${s.name}"`).join(', ')}`,
    );
  }
  if (!isDatatype(input.datatype) || input.datatype !== expected.datatype) {
    throw RpcError.invalidArgument(
      `${field}.datatype`,
      `input "${input.name}" must be ${expected.datatype}, got "${input.datatype}"`,
    );
  }
  const shape = input.shape.map(Number);
  if (
    shape.some((d) => !Number.isSafeInteger(d) || d < 0) ||
    !shapeMatches(shape, expected.shape)
  ) {
    throw RpcError.invalidArgument(
      `${field}.shape`,
      `input "${input.name}" has shape ${formatShape(shape)}; the model expects ${formatShape(expected.shape)} (-1 = any)`,
    );
  }
  return { expected, shape };
}

/** Input `index`'s data, from its raw bytes or its typed contents, as a tensor of `shape`. */
function decodeInput(
  request: ModelInferRequest,
  index: number,
  expected: TensorMetadata,
  shape: number[],
  useRaw: boolean,
): Tensor {
  const input = request.inputs[index] as InferInput;
  try {
    const raw = request.rawInputContents[index];
    const label = `input "${input.name}"`;
    return useRaw && raw !== undefined
      ? decodeRaw(expected.datatype, shape, raw, label)
      : decodeContents(
          expected.datatype,
          shape,
          input.contents ?? create(InferTensorContentsSchema),
          label,
        );
  } catch (error) {
    if (!(error instanceof TensorCodecError)) throw error;
    throw RpcError.invalidArgument(
      useRaw ? `raw_input_contents[${index}]` : `inputs[${index}].contents`,
      error.message,
    );
  }
}

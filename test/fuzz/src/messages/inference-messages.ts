import fc from 'fast-check';
import {
  ModelInferRequestSchema,
  ModelMetadataRequestSchema,
  ModelReadyRequestSchema,
} from '@scoregate/contracts';
import { singleMessageInputs } from '../fuzz-input.js';
import {
  hostileDouble,
  hostileInt64,
  hostileString,
  maybe,
  nameFrom,
  repeated,
} from '../hostile-values.js';

/** The models the stack serves (test/e2e's catalogue) and their one input, FP32 [-1, 8]. */
const modelName = nameFrom(['truck-roll-gbt', 'truck-roll-logreg', 'no-such-model']);
const modelVersion = nameFrom(['', '', '1', 'champion', '2', 'canary']);
const COLUMNS = 8;
const DATATYPES = ['FP32', 'FP32', 'FP64', 'INT64', 'INT32', 'BOOL', 'BYTES', 'fp32', 'FP16'];

/** Typed contents for `count` values, in the field the datatype names (or another one). */
function contents(count: number) {
  const values = <T>(item: fc.Arbitrary<T>) =>
    fc.oneof(
      { weight: 6, arbitrary: fc.array(item, { minLength: count, maxLength: count }) },
      { weight: 1, arbitrary: fc.array(item, { maxLength: count + 3 }) },
    );
  return fc.oneof(
    { weight: 6, arbitrary: values(hostileDouble).map((fp32Contents) => ({ fp32Contents })) },
    { weight: 1, arbitrary: values(hostileDouble).map((fp64Contents) => ({ fp64Contents })) },
    { weight: 1, arbitrary: values(hostileInt64).map((int64Contents) => ({ int64Contents })) },
    { weight: 1, arbitrary: values(fc.integer()).map((intContents) => ({ intContents })) },
    { weight: 1, arbitrary: values(fc.boolean()).map((boolContents) => ({ boolContents })) },
    {
      weight: 1,
      arbitrary: values(fc.uint8Array({ maxLength: 8 })).map((bytesContents) => ({
        bytesContents,
      })),
    },
  );
}

/** A shape that matches the values sent, or any shape at all (huge, negative, empty). */
const shapeFor = (rows: number) =>
  fc.oneof(
    {
      weight: 6,
      arbitrary: fc.constant([BigInt(rows), BigInt(COLUMNS)]).map((shape) => [...shape]),
    },
    { weight: 1, arbitrary: repeated(hostileInt64, 3, { count: 65 }) },
  );

/** One input tensor of `rows` rows, with typed contents or raw bytes. */
const inferInput = fc.integer({ min: 1, max: 4 }).chain((rows) =>
  fc.record({
    tensor: fc.record(
      {
        name: nameFrom(['features', 'features', 'float_input']),
        datatype: nameFrom(DATATYPES),
        shape: shapeFor(rows),
        contents: maybe(contents(rows * COLUMNS)),
      },
      { requiredKeys: [] },
    ),
    raw: fc.oneof(
      { weight: 3, arbitrary: fc.constant(undefined) },
      {
        weight: 1,
        arbitrary: fc.uint8Array({ minLength: rows * COLUMNS * 4, maxLength: rows * COLUMNS * 4 }),
      },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 256 }) },
    ),
  }),
);

const modelInfer = fc
  .record({
    modelName,
    modelVersion,
    id: hostileString,
    inputs: repeated(inferInput, 1, { count: 3 }),
    outputs: maybe(repeated(fc.record({ name: nameFrom(['probabilities', 'label', 'nope']) }), 2)),
  })
  .map(({ inputs, ...request }) => {
    // raw_input_contents replaces every input's contents, or is absent altogether.
    const raw = inputs.every(({ raw }) => raw !== undefined);
    return {
      ...request,
      inputs: inputs.map(({ tensor }) => (raw ? { ...tensor, contents: undefined } : tensor)),
      rawInputContents: raw ? inputs.map(({ raw }) => raw!) : [],
    };
  });

/** Valid-shaped and hostile requests of the inference service's model RPCs, by method name. */
export const inferenceInputs = {
  ModelInfer: singleMessageInputs(ModelInferRequestSchema, modelInfer),
  ModelMetadata: singleMessageInputs(
    ModelMetadataRequestSchema,
    fc.record({ name: modelName, version: modelVersion }, { requiredKeys: [] }),
  ),
  ModelReady: singleMessageInputs(
    ModelReadyRequestSchema,
    fc.record({ name: modelName, version: modelVersion }, { requiredKeys: [] }),
  ),
};

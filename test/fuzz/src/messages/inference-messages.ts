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

/** The models the stack serves (test/e2e's catalogue); each has one input, FP32 [-1, 8 or 4]. */
const modelName = nameFrom(['truck-roll-gbt', 'truck-roll-logreg', 'no-such-model']);
const modelVersion = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('', '1', 'champion') },
  nameFrom(['2', 'canary']),
);
const DATATYPES = ['FP32', 'FP64', 'INT64', 'INT32', 'BOOL', 'BYTES', 'fp32', 'FP16'];
const datatype = fc.oneof({ weight: 3, arbitrary: fc.constant('FP32') }, nameFrom(DATATYPES));

/** Typed contents for `count` values, in the field the datatype names (or another one). */
function contents(count: number) {
  const values = <T>(item: fc.Arbitrary<T>) =>
    fc.oneof(
      { weight: 6, arbitrary: fc.array(item, { minLength: count, maxLength: count }) },
      { weight: 1, arbitrary: fc.array(item, { maxLength: count + 3 }) },
    );
  return fc.oneof(
    {
      weight: 6,
      arbitrary: values(hostileDouble.map(Math.fround)).map((fp32Contents) => ({ fp32Contents })),
    },
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
const shapeFor = (rows: number, columns: number) =>
  fc.oneof(
    {
      weight: 6,
      arbitrary: fc.constant([BigInt(rows), BigInt(columns)]).map((shape) => [...shape]),
    },
    { weight: 1, arbitrary: repeated(hostileInt64, 3, { count: 65 }) },
  );

/** One input tensor of `rows` rows of `columns`, with typed contents or raw bytes. */
const inferInput = (columns: number) =>
  fc.integer({ min: 1, max: 4 }).chain((rows) =>
    fc.record({
      tensor: fc.record(
        {
          name: fc.oneof(
            { weight: 3, arbitrary: fc.constant('features') },
            nameFrom(['float_input']),
          ),
          datatype,
          shape: shapeFor(rows, columns),
          contents: maybe(contents(rows * columns)),
        },
        { requiredKeys: [] },
      ),
      raw: fc.oneof(
        { weight: 3, arbitrary: fc.constant(undefined) },
        {
          weight: 1,
          arbitrary: fc.uint8Array({
            minLength: rows * columns * 4,
            maxLength: rows * columns * 4,
          }),
        },
        { weight: 1, arbitrary: fc.uint8Array({ maxLength: 256 }) },
      ),
    }),
  );

/** A served model (and its input's width), or one that is not. */
const servedModel = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(['truck-roll-gbt', 8] as const, ['truck-roll-logreg', 4] as const),
  },
  { weight: 1, arbitrary: fc.tuple(modelName, fc.constantFrom(4, 8)) },
);

const modelInfer = servedModel
  .chain(([name, columns]) =>
    fc.record({
      modelName: fc.constant(name),
      modelVersion,
      id: hostileString,
      inputs: repeated(inferInput(columns), 1, { count: 3 }),
      outputs: maybe(
        repeated(fc.record({ name: nameFrom(['probabilities', 'label', 'nope']) }), 2),
      ),
    }),
  )
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

/** Tensor element types, named as in the Open Inference Protocol (KServe v2). */
export type Datatype =
  'BOOL' | 'UINT8' | 'INT8' | 'INT16' | 'INT32' | 'INT64' | 'FP32' | 'FP64' | 'BYTES';

export type TensorData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | boolean[]
  | string[];

/** A named tensor: element type, dimensions and row-major data. */
export interface Tensor {
  readonly datatype: Datatype;
  readonly shape: readonly number[];
  readonly data: TensorData;
}

/** What a model expects or produces for one tensor; -1 marks a variable dimension. */
export interface TensorMetadata {
  readonly name: string;
  readonly datatype: Datatype;
  readonly shape: readonly number[];
}

/** Number of elements a shape holds. */
export function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

/**
 * Every tensor datatype the Open Inference Protocol defines (a model may declare any of them;
 * the codec in this package reads and writes the subset in {@link Datatype}).
 */
export const PROTOCOL_DATATYPES: ReadonlySet<string> = new Set([
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES',
]);

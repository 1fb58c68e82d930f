import type { Tensor } from '@scoregate/inference-protocol';
import { RpcError } from '@scoregate/rpc';

/**
 * Which inputs of a served version may hold NaN and infinities: those its registry input spec
 * declares `accepts_non_finite` (e.g. a tree ensemble that reads NaN as a missing value). A
 * version served from a local directory declares none.
 */
export interface NonFiniteRule {
  /** Names of the inputs that accept non-finite elements. */
  readonly inputs: ReadonlySet<string>;
  /** How a message names the version, e.g. `model "m" version "3"`. */
  readonly label: string;
}

/** Where input `index`'s elements came from: its raw bytes or its typed contents. */
export interface InputSource {
  readonly index: number;
  readonly raw: boolean;
}

/** The index of the first NaN or infinite element, or -1. One pass, no allocation. */
export function firstNonFinite(data: Float32Array | Float64Array): number {
  for (let i = 0; i < data.length; i++) {
    const value = data[i]!;
    // value - value is 0 for every finite value and NaN for NaN and ±Infinity.
    if (value - value !== 0) return i;
  }
  return -1;
}

/**
 * Refuses an FP32 or FP64 input holding a non-finite element, unless the rule lets the input
 * have them: INVALID_ARGUMENT naming the input and the element (flat index and per dimension).
 */
export function refuseNonFinite(
  tensor: Tensor,
  name: string,
  source: InputSource,
  rule: NonFiniteRule,
): void {
  if (tensor.datatype !== 'FP32' && tensor.datatype !== 'FP64') return;
  if (rule.inputs.has(name)) return;
  const data = tensor.data as Float32Array | Float64Array;
  const at = firstNonFinite(data);
  if (at < 0) return;
  const field = source.raw
    ? `raw_input_contents[${source.index}]`
    : `inputs[${source.index}].contents.${tensor.datatype.toLowerCase()}_contents[${at}]`;
  throw RpcError.invalidArgument(
    field,
    `input "${name}" holds ${data[at]} at element [${unravel(at, tensor.shape).join(',')}] (index ${at}); ${rule.label} accepts finite values only: send a finite value, or register a version whose input declares accepts_non_finite`,
  );
}

/** The per-dimension position of a row-major flat index. */
function unravel(index: number, shape: readonly number[]): number[] {
  const position = new Array<number>(shape.length);
  let rest = index;
  for (let d = shape.length - 1; d >= 0; d--) {
    const size = shape[d]!;
    position[d] = size > 0 ? rest % size : 0;
    rest = size > 0 ? Math.floor(rest / size) : rest;
  }
  return position;
}

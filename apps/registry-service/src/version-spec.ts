import type {
  FeatureInput,
  ModelVersionSpec,
  TensorSpec,
  UploadHeader,
} from '@scoregate/contracts';
import { Code, RpcError } from '@scoregate/rpc';
import { PROTOCOL_DATATYPES, type TensorMetadata } from '@scoregate/inference-protocol';
import { isFeatureRef, isName, isSha256, isVersionNumber, nameRule, versionRule } from './names.js';
import { VALUE_TYPES } from './value-types.js';

const MAX_TAG_VALUE_BYTES = 256;
/** The datatypes that have NaN and infinities, where an input may declare accepts_non_finite. */
const FLOATING_POINT: ReadonlySet<string> = new Set(['FP16', 'FP32', 'FP64']);

/** An upload header's fields: INVALID_ARGUMENT naming the first one at fault; RESOURCE_EXHAUSTED when too large. */
export function checkUploadHeader(header: UploadHeader, maxUploadBytes: number): void {
  const bad = (field: string, why: string) => RpcError.invalidArgument(`header.${field}`, why);
  if (header.model === '') throw bad('model', 'is required');
  if (!isName(header.model)) throw bad('model', nameRule(header.model));
  if (!isSha256(header.sha256))
    throw bad(
      'sha256',
      `must be 64 lower-case hex characters (got ${JSON.stringify(header.sha256)})`,
    );
  if (header.sizeBytes <= 0n) throw bad('size_bytes', `must be positive (got ${header.sizeBytes})`);
  if (header.sizeBytes > BigInt(maxUploadBytes)) {
    throw new RpcError(
      Code.RESOURCE_EXHAUSTED,
      `header.size_bytes: ${header.sizeBytes} bytes is over this registry's upload limit of ${maxUploadBytes} bytes (REGISTRY_MAX_UPLOAD_BYTES)`,
    );
  }
  if (header.spec === undefined) throw bad('spec', 'is required');
  checkVersionSpec(header.spec, 'header.spec');
}

/**
 * A version's spec (its contract, tensors, framework, tags, metrics and lineage):
 * INVALID_ARGUMENT naming the first field at fault under `at`.
 */
export function checkVersionSpec(spec: ModelVersionSpec, at: string): void {
  const bad = (field: string, why: string) => RpcError.invalidArgument(`${at}.${field}`, why);
  const inputs = spec.contract?.inputs ?? [];
  if (inputs.length === 0) throw bad('contract.inputs', 'must list at least one feature');
  const seen = new Set<string>();
  for (const [i, input] of inputs.entries()) {
    if (!isFeatureRef(input.ref))
      throw bad(
        `contract.inputs[${i}].ref`,
        `must be "view:feature" or a bare feature name, each part a Scoregate name (got ${JSON.stringify(input.ref)})`,
      );
    if (seen.has(input.ref))
      throw bad(`contract.inputs[${i}].ref`, `"${input.ref}" is listed twice`);
    seen.add(input.ref);
    if (input.dtype === 0) throw bad(`contract.inputs[${i}].dtype`, 'is required');
    checkDefaultValue(input, `${at}.contract.inputs[${i}].default_value`);
  }
  if (spec.input === undefined) throw bad('input', 'is required');
  checkTensor(spec.input, `${at}.input`);
  const [batch, width] = spec.input.shape;
  if (spec.input.shape.length !== 2 || batch !== -1n || width !== BigInt(inputs.length))
    throw bad(
      'input.shape',
      `must be [-1, ${inputs.length}] (one column per contract input; got [${spec.input.shape.join(', ')}])`,
    );
  if (spec.input.acceptsNonFinite && !FLOATING_POINT.has(spec.input.datatype))
    throw bad(
      'input.accepts_non_finite',
      `applies to a floating-point input (${[...FLOATING_POINT].join(', ')}); the input is ${spec.input.datatype}`,
    );
  if (spec.outputs.length === 0) throw bad('outputs', 'must list at least one output');
  const names = new Set<string>();
  for (const [i, output] of spec.outputs.entries()) {
    checkTensor(output, `${at}.outputs[${i}]`);
    if (output.acceptsNonFinite)
      throw bad(`outputs[${i}].accepts_non_finite`, 'applies to the input tensor only');
    if (names.has(output.name)) throw bad(`outputs[${i}].name`, `"${output.name}" is listed twice`);
    names.add(output.name);
  }
  if (spec.framework !== 'onnx')
    throw bad(
      'framework',
      `must be "onnx", the format this registry validates and the scoring-service runs (got ${JSON.stringify(spec.framework)})`,
    );
  for (const [key, value] of Object.entries(spec.tags)) {
    if (!isName(key)) throw bad(`tags["${key}"]`, `key ${nameRule(key)}`);
    if (Buffer.byteLength(value) > MAX_TAG_VALUE_BYTES)
      throw bad(`tags["${key}"]`, `value is over ${MAX_TAG_VALUE_BYTES} bytes`);
  }
  for (const [name, value] of Object.entries(spec.metrics))
    if (!Number.isFinite(value)) throw bad(`metrics["${name}"]`, 'must be a finite number');
  const lineage = spec.lineage;
  if (lineage) {
    if (lineage.datasetSha256 !== '' && !isSha256(lineage.datasetSha256))
      throw bad('lineage.dataset_sha256', 'must be 64 lower-case hex characters');
    if (lineage.parentVersion !== '' && !isVersionNumber(lineage.parentVersion))
      throw bad('lineage.parent_version', versionRule(lineage.parentVersion));
  }
}

/** A default value, when set, has the input's dtype and, when a double, is finite. */
function checkDefaultValue(input: FeatureInput, at: string): void {
  const kind = input.defaultValue?.kind;
  if (kind?.case === undefined) return;
  const dtype = Object.keys(VALUE_TYPES).find((name) => VALUE_TYPES[name] === input.dtype);
  const given = kind.case.slice(0, -'Value'.length);
  if (given !== dtype)
    throw RpcError.invalidArgument(at, `must be a ${dtype} (the input's dtype), got ${given}`);
  if (kind.case === 'doubleValue' && !Number.isFinite(kind.value))
    throw RpcError.invalidArgument(`${at}.double_value`, `must be finite, got ${kind.value}`);
}

function checkTensor(tensor: TensorSpec, at: string): void {
  if (tensor.name === '') throw RpcError.invalidArgument(`${at}.name`, 'is required');
  if (!PROTOCOL_DATATYPES.has(tensor.datatype))
    throw RpcError.invalidArgument(
      `${at}.datatype`,
      `must be a KServe v2 datatype, one of ${[...PROTOCOL_DATATYPES].join(', ')} (got ${JSON.stringify(tensor.datatype)})`,
    );
  for (const [i, dim] of tensor.shape.entries())
    if (dim < -1n || dim === 0n)
      throw RpcError.invalidArgument(
        `${at}.shape[${i}]`,
        `must be positive, or -1 for a variable dimension (got ${dim})`,
      );
}

/**
 * Differences between the declared signature and the model's own, one line each; empty when they
 * match. Names and datatypes must be equal; shapes must have the same rank, and a dimension fixed
 * on both sides must be equal (-1 on either side matches any size).
 */
export function signatureMismatches(
  spec: ModelVersionSpec,
  model: { inputs: readonly TensorMetadata[]; outputs: readonly TensorMetadata[] },
): string[] {
  const problems: string[] = [];
  const show = (t: { name: string; datatype: string; shape: readonly (number | bigint)[] }) =>
    `"${t.name}" ${t.datatype} [${t.shape.join(', ')}]`;
  const compare = (where: string, declared: TensorSpec, actual: TensorMetadata | undefined) => {
    if (actual === undefined) {
      problems.push(`${where} ${show(declared)} is not in the model`);
      return;
    }
    const shapeOk =
      declared.shape.length === actual.shape.length &&
      declared.shape.every(
        (d, i) => d === -1n || actual.shape[i] === -1 || d === BigInt(actual.shape[i]!),
      );
    if (declared.datatype !== actual.datatype || !shapeOk)
      problems.push(`${where} is declared ${show(declared)} but the model has ${show(actual)}`);
  };
  const input = spec.input!;
  if (model.inputs.length !== 1)
    problems.push(
      `the model has ${model.inputs.length} inputs (${model.inputs.map(show).join(', ')}); exactly one is supported`,
    );
  else if (model.inputs[0]!.name !== input.name)
    problems.push(
      `input is declared ${show(input)} but the model's input is ${show(model.inputs[0]!)}`,
    );
  else compare('input', input, model.inputs[0]);
  for (const output of spec.outputs)
    compare(
      'output',
      output,
      model.outputs.find((o) => o.name === output.name),
    );
  for (const output of model.outputs)
    if (!spec.outputs.some((o) => o.name === output.name))
      problems.push(`the model's output ${show(output)} is not declared in spec.outputs`);
  return problems;
}

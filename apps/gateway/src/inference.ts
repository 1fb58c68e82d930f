import type { MessageInitShape } from '@bufbuild/protobuf';
import type { ModelInferRequestSchema, OutputSchema } from '@scoregate/contracts';
import {
  decodeRaw,
  encodeRaw,
  isDatatype,
  numberAt,
  type Tensor,
} from '@scoregate/inference-protocol';
import { Code, RpcError, type CallContext } from '@scoregate/rpc';
import type { ChainModel, Route } from './route-resolver.js';
import type { ScoringBackend } from './scoring-backends.js';

export interface Inferred {
  /** The version that answered, as scoring-service reports it. */
  readonly version: string;
  /** Outputs with the batch dimension first: one row per input row. */
  readonly tensors: Record<string, Tensor>;
}

/**
 * The ModelInfer request for `rows` of `width` values (each in the model's column order), by
 * alias: while an alias moves, the route cache may still name the old version, but
 * scoring-service always knows what the alias serves now. The reply says which version.
 */
export function modelInferRequest(
  chainModel: ChainModel,
  rows: readonly Float32Array[],
  width: number,
  requestId: string,
): MessageInitShape<typeof ModelInferRequestSchema> {
  const data = new Float32Array(rows.length * width);
  rows.forEach((row, i) => data.set(row, i * width));
  return {
    modelName: chainModel.model,
    modelVersion: chainModel.alias,
    id: requestId,
    inputs: [
      {
        name: chainModel.inputName,
        datatype: 'FP32',
        shape: [BigInt(rows.length), BigInt(width)],
      },
    ],
    rawInputContents: [encodeRaw({ datatype: 'FP32', shape: [rows.length, width], data })],
  };
}

/** One ModelInfer call for `rows` (each in the model's column order), by alias. */
export async function inferRows(
  backend: ScoringBackend,
  chainModel: ChainModel,
  rows: readonly Float32Array[],
  requestId: string,
  call: { parent: CallContext; deadline: number; signal?: AbortSignal },
): Promise<Inferred> {
  const reply = await backend.client.modelInfer(
    modelInferRequest(chainModel, rows, chainModel.contract.length, requestId),
    call,
  );
  const tensors: Record<string, Tensor> = {};
  reply.outputs.forEach((output, i) => {
    const raw = reply.rawOutputContents[i];
    if (!isDatatype(output.datatype) || raw === undefined) {
      throw new RpcError(
        Code.INTERNAL,
        `scoring-service sent output "${output.name}" without usable data`,
      );
    }
    tensors[output.name] = decodeRaw(output.datatype, output.shape.map(Number), raw, output.name);
  });
  return { version: reply.modelVersion, tensors };
}

function rowSize(tensor: Tensor): number {
  return tensor.shape.slice(1).reduce((a, b) => a * b, 1);
}

/** The outputs of one row, without the batch dimension. */
export function outputsOfRow(
  tensors: Record<string, Tensor>,
  row: number,
): MessageInitShape<typeof OutputSchema>[] {
  return Object.entries(tensors).map(([name, tensor]) => {
    const size = rowSize(tensor);
    return {
      name,
      datatype: tensor.datatype,
      shape: tensor.shape.slice(1).map(BigInt),
      values: Array.from({ length: size }, (_, i) => numberAt(tensor, row * size + i)),
    };
  });
}

/** The scorer's designated output of one row. */
export function scoreOfRow(route: Route, tensors: Record<string, Tensor>, row: number): number {
  const tensor = tensors[route.scorer.scoreOutput];
  if (!tensor)
    throw new RpcError(
      Code.INTERNAL,
      `model output "${route.scorer.scoreOutput}" named by scorer "${route.scorer.name}" is missing`,
    );
  return numberAt(tensor, row * rowSize(tensor) + route.scorer.scoreIndex);
}

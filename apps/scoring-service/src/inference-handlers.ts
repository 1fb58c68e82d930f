import type { GRPCInferenceService, ModelInferRequest } from '@scoregate/contracts';
import { encodeRaw, type TensorMetadata } from '@scoregate/inference-protocol';
import { RpcError, type ServiceHandlers } from '@scoregate/rpc';
import { decodeInferInputs } from './infer-request.js';
import type { ModelLease, ModelStore } from './model-store.js';

export const SERVER_NAME = 'scoregate-scoring';
export const SERVER_VERSION = '0.1.0';
const PLATFORM = 'onnxruntime_onnx';

const tensorMetadata = (t: TensorMetadata) => ({
  name: t.name,
  datatype: t.datatype,
  shape: t.shape.map(BigInt),
});

function notLoaded(models: ModelStore, name: string, selector: string): RpcError {
  if (selector === '') return RpcError.notFound(`model "${name}" is not loaded`);
  const failure = models.failure(name, selector);
  const what = /^[0-9]+$/.test(selector) ? `version "${selector}"` : `alias "${selector}"`;
  return RpcError.notFound(
    failure
      ? `model "${name}" ${what} is not loaded: ${failure.stage} failed: ${failure.message}`
      : `model "${name}" ${what} is not loaded`,
  );
}

function leaseModel(models: ModelStore, name: string, selector: string, field: string): ModelLease {
  if (name === '') throw RpcError.invalidArgument(field, 'a model name is required');
  const lease = models.acquire(name, selector);
  if (!lease) throw notLoaded(models, name, selector);
  return lease;
}

export interface InferenceHandlerOptions {
  /** ServerReady: true once the models to serve are loaded (registry mode: the first snapshot's). */
  readonly isReady: () => boolean;
}

/**
 * The Open Inference Protocol (KServe v2) over the models of a store. A model is addressed by
 * `name` plus the `version` / `model_version` field: a version number, an alias name, or empty
 * for the `champion` alias (falling back to the highest loaded version); see ModelStore.
 * ModelReady is false for a version or alias that is not loaded, including a version that failed
 * to load while the previous one keeps serving.
 */
export function createInferenceHandlers(
  models: ModelStore,
  options: InferenceHandlerOptions = { isReady: () => models.list().length > 0 },
): ServiceHandlers<typeof GRPCInferenceService> {
  return {
    serverLive: () => ({ live: true }),
    serverReady: () => ({ ready: options.isReady() }),
    modelReady: (request) => ({ ready: models.get(request.name, request.version) !== undefined }),
    serverMetadata: () => ({ name: SERVER_NAME, version: SERVER_VERSION, extensions: [] }),
    modelMetadata: (request) => {
      if (request.name === '') throw RpcError.invalidArgument('name', 'a model name is required');
      const loaded = models.get(request.name, request.version);
      if (!loaded) throw notLoaded(models, request.name, request.version);
      return {
        name: loaded.name,
        versions: models.versions(loaded.name),
        platform: PLATFORM,
        inputs: loaded.model.inputs.map(tensorMetadata),
        outputs: loaded.model.outputs.map(tensorMetadata),
      };
    },
    modelInfer: async (request) => {
      const lease = leaseModel(models, request.modelName, request.modelVersion, 'model_name');
      try {
        return await infer(lease, request);
      } finally {
        lease.release();
      }
    },
  };
}

async function infer(lease: ModelLease, request: ModelInferRequest) {
  const loaded = lease.served;
  const feeds = decodeInferInputs(request, loaded.model.inputs, {
    inputs: loaded.nonFiniteInputs,
    label: `model "${loaded.name}" version "${loaded.version}"`,
  });
  const wanted = request.outputs.map((o) => o.name);
  wanted.forEach((name, i) => {
    if (!loaded.model.outputs.some((o) => o.name === name)) {
      throw RpcError.invalidArgument(
        `outputs[${i}].name`,
        `model "${loaded.name}" has no output "${name}"; its outputs are ${loaded.model.outputs.map((o) => `"${o.name}"`).join(', ')}`,
      );
    }
  });
  const results = await loaded.run(feeds);
  const names = wanted.length > 0 ? wanted : loaded.model.outputs.map((o) => o.name);
  const outputs = names.map((name) => {
    const tensor = results[name];
    if (!tensor) throw new Error(`model ${loaded.name} did not produce output ${name}`);
    return tensor;
  });
  // Like Triton, answer with raw little-endian bytes: exact, compact, and what clients expect.
  return {
    modelName: loaded.name,
    modelVersion: loaded.version,
    id: request.id,
    outputs: outputs.map((tensor, i) => ({
      name: names[i],
      datatype: tensor.datatype,
      shape: tensor.shape.map(BigInt),
    })),
    rawOutputContents: outputs.map(encodeRaw),
  };
}

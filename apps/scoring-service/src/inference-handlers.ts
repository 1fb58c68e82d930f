import type { GRPCInferenceService } from '@scoregate/contracts';
import { encodeRaw, type TensorMetadata } from '@scoregate/inference-protocol';
import { RpcError, type ServiceHandlers } from '@scoregate/rpc';
import { decodeInferInputs } from './infer-request.js';
import type { LoadedModel, ModelRepository } from './model-repository.js';

export const SERVER_NAME = 'scoregate-scoring';
export const SERVER_VERSION = '0.1.0';
const PLATFORM = 'onnxruntime_onnx';

const tensorMetadata = (t: TensorMetadata) => ({
  name: t.name,
  datatype: t.datatype,
  shape: t.shape.map(BigInt),
});

function requireModel(
  models: ModelRepository,
  name: string,
  version: string,
  field: string,
): LoadedModel {
  if (name === '') throw RpcError.invalidArgument(field, 'a model name is required');
  const loaded = models.get(name, version);
  if (!loaded) {
    throw RpcError.notFound(
      version === ''
        ? `model "${name}" is not loaded`
        : `model "${name}" version "${version}" is not loaded`,
    );
  }
  return loaded;
}

/** The Open Inference Protocol (KServe v2) over the models of a repository. */
export function createInferenceHandlers(
  models: ModelRepository,
): ServiceHandlers<typeof GRPCInferenceService> {
  return {
    serverLive: () => ({ live: true }),
    serverReady: () => ({ ready: models.list().length > 0 }),
    modelReady: (request) => ({ ready: models.get(request.name, request.version) !== undefined }),
    serverMetadata: () => ({ name: SERVER_NAME, version: SERVER_VERSION, extensions: [] }),
    modelMetadata: (request) => {
      const loaded = requireModel(models, request.name, request.version, 'name');
      return {
        name: loaded.name,
        versions: models.versions(loaded.name),
        platform: PLATFORM,
        inputs: loaded.model.inputs.map(tensorMetadata),
        outputs: loaded.model.outputs.map(tensorMetadata),
      };
    },
    modelInfer: async (request) => {
      const loaded = requireModel(models, request.modelName, request.modelVersion, 'model_name');
      const feeds = decodeInferInputs(request, loaded.model.inputs);
      const wanted = request.outputs.map((o) => o.name);
      wanted.forEach((name, i) => {
        if (!loaded.model.outputs.some((o) => o.name === name)) {
          throw RpcError.invalidArgument(
            `outputs[${i}].name`,
            `model "${loaded.name}" has no output "${name}"; its outputs are ${loaded.model.outputs.map((o) => `"${o.name}"`).join(', ')}`,
          );
        }
      });
      const results = await loaded.model.run(feeds);
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
    },
  };
}

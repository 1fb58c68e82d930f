import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRPCInferenceService } from '@scoregate/contracts';
import { decodeRaw, encodeRaw, type Datatype } from '@scoregate/inference-protocol';
import {
  Code,
  RpcError,
  createRpcClient,
  createRpcServer,
  type RpcClient,
  type RpcServer,
} from '@scoregate/rpc';
import { createInferenceHandlers } from './inference-handlers.js';
import { loadLocalModels } from './local-models.js';
import { createModelStore, type ModelStore } from './model-store.js';

const fixtures = fileURLToPath(new URL('../../../tools/models/fixtures', import.meta.url));
interface Golden {
  sample: { columns: string[]; rows: number[][] };
  predictions: Record<string, { label: number[]; probabilities: number[][]; columns: string[] }>;
}
const golden = JSON.parse(readFileSync(join(fixtures, 'golden.json'), 'utf8')) as Golden;

let models: ModelStore;
let server: RpcServer;
let client: RpcClient<typeof GRPCInferenceService>;

beforeAll(async () => {
  models = createModelStore();
  await loadLocalModels(fixtures, models, {
    intraOpThreads: 1,
    batching: { enabled: true, maxBatchRows: 256 },
  });
  server = createRpcServer({ name: 'scoring-test', logger: { info() {}, warn() {}, error() {} } });
  server.register(GRPCInferenceService, createInferenceHandlers(models));
  const port = await server.listen('127.0.0.1:0');
  client = createRpcClient(GRPCInferenceService, { address: `127.0.0.1:${port}` });
});
afterAll(async () => {
  client.close();
  await server.shutdown({ drainDelayMs: 0 });
  await models.releaseAll();
});

function sampleFor(model: string): Float32Array {
  const columns = golden.predictions[model]?.columns ?? [];
  const indexes = columns.map((c) => golden.sample.columns.indexOf(c));
  return new Float32Array(
    golden.sample.rows.flatMap((row) => indexes.map((i) => row[i] as number)),
  );
}

describe('Open Inference Protocol on the fixture models', () => {
  it.each(['truck-roll-gbt', 'truck-roll-logreg'])(
    'ModelInfer on %s equals the Python golden predictions within 1e-5',
    async (model) => {
      const expected = golden.predictions[model];
      const data = sampleFor(model);
      const rows = golden.sample.rows.length;
      const width = data.length / rows;
      const reply = await client.modelInfer({
        modelName: model,
        id: 'parity',
        inputs: [{ name: 'features', datatype: 'FP32', shape: [BigInt(rows), BigInt(width)] }],
        rawInputContents: [encodeRaw({ datatype: 'FP32', shape: [rows, width], data })],
      });
      expect(reply.modelVersion).toBe('1');
      expect(reply.id).toBe('parity');
      const byName = Object.fromEntries(
        reply.outputs.map((o, i) => [
          o.name,
          decodeRaw(
            o.datatype as Datatype,
            o.shape.map(Number),
            reply.rawOutputContents[i] as Uint8Array,
          ),
        ]),
      );
      expect(Array.from(byName['label']?.data as BigInt64Array, Number)).toEqual(expected?.label);
      const probabilities = byName['probabilities']?.data as Float32Array;
      expected?.probabilities
        .flat()
        .forEach((p, i) => expect(Math.abs((probabilities[i] as number) - p)).toBeLessThan(1e-5));
    },
  );

  it('accepts typed contents as well as raw bytes', async () => {
    const data = sampleFor('truck-roll-logreg').slice(0, 4);
    const reply = await client.modelInfer({
      modelName: 'truck-roll-logreg',
      inputs: [
        {
          name: 'features',
          datatype: 'FP32',
          shape: [1n, 4n],
          contents: { fp32Contents: Array.from(data) },
        },
      ],
      outputs: [{ name: 'probabilities' }],
    });
    expect(reply.outputs.map((o) => o.name)).toEqual(['probabilities']);
    const p = decodeRaw('FP32', [1, 2], reply.rawOutputContents[0] as Uint8Array)
      .data as Float32Array;
    expect(
      Math.abs(
        (p[1] as number) -
          (golden.predictions['truck-roll-logreg']?.probabilities[0]?.[1] as number),
      ),
    ).toBeLessThan(1e-5);
  });

  it('describes the server and each model', async () => {
    expect((await client.serverLive({})).live).toBe(true);
    expect((await client.serverReady({})).ready).toBe(true);
    expect((await client.modelReady({ name: 'truck-roll-gbt' })).ready).toBe(true);
    expect((await client.modelReady({ name: 'no-such-model' })).ready).toBe(false);
    const metadata = await client.modelMetadata({ name: 'truck-roll-gbt' });
    expect(metadata.platform).toBe('onnxruntime_onnx');
    expect(metadata.versions).toEqual(['1']);
    expect(metadata.inputs.map((i) => [i.name, i.datatype, i.shape])).toEqual([
      ['features', 'FP32', [-1n, 8n]],
    ]);
    expect(metadata.outputs.map((o) => o.name)).toEqual(['label', 'probabilities']);
  });
});

describe('ModelInfer input validation', () => {
  const infer = (request: Parameters<typeof client.modelInfer>[0]) =>
    client.modelInfer(request).then(
      () => undefined,
      (e: unknown) => e as RpcError,
    );
  const one = new Float32Array(8);

  it.each([
    [
      'an unknown model',
      { modelName: 'nope', inputs: [] },
      Code.NOT_FOUND,
      'model "nope" is not loaded',
    ],
    [
      'a wrong input name',
      {
        modelName: 'truck-roll-gbt',
        inputs: [{ name: 'x', datatype: 'FP32', shape: [1n, 8n] }],
        rawInputContents: [encodeRaw({ datatype: 'FP32', shape: [1, 8], data: one })],
      },
      Code.INVALID_ARGUMENT,
      'inputs[0].name: model "truck-roll-gbt" has no input "x"; its inputs are "features"',
    ],
    [
      'a wrong datatype',
      {
        modelName: 'truck-roll-gbt',
        inputs: [{ name: 'features', datatype: 'FP64', shape: [1n, 8n] }],
        rawInputContents: [new Uint8Array(64)],
      },
      Code.INVALID_ARGUMENT,
      'inputs[0].datatype: input "features" must be FP32, got "FP64"',
    ],
    [
      'a wrong shape',
      {
        modelName: 'truck-roll-gbt',
        inputs: [{ name: 'features', datatype: 'FP32', shape: [1n, 7n] }],
        rawInputContents: [new Uint8Array(28)],
      },
      Code.INVALID_ARGUMENT,
      'inputs[0].shape: input "features" has shape [1,7]; the model expects [-1,8] (-1 = any)',
    ],
    [
      'raw data of the wrong size',
      {
        modelName: 'truck-roll-gbt',
        inputs: [{ name: 'features', datatype: 'FP32', shape: [2n, 8n] }],
        rawInputContents: [new Uint8Array(32)],
      },
      Code.INVALID_ARGUMENT,
      'raw_input_contents[0]: input "features": shape [2,8] of FP32 needs 64 bytes, got 32',
    ],
    [
      'a missing input',
      { modelName: 'truck-roll-gbt', inputs: [] },
      Code.INVALID_ARGUMENT,
      'inputs: missing input "features" (FP32 [-1,8])',
    ],
    [
      'an unknown requested output',
      {
        modelName: 'truck-roll-gbt',
        inputs: [
          {
            name: 'features',
            datatype: 'FP32',
            shape: [1n, 8n],
            contents: { fp32Contents: Array.from(one) },
          },
        ],
        outputs: [{ name: 'scores' }],
      },
      Code.INVALID_ARGUMENT,
      'outputs[0].name: model "truck-roll-gbt" has no output "scores"; its outputs are "label", "probabilities"',
    ],
    [
      'a NaN in raw FP32 input bytes',
      {
        modelName: 'truck-roll-logreg',
        inputs: [{ name: 'features', datatype: 'FP32', shape: [2n, 4n] }],
        rawInputContents: [
          encodeRaw({
            datatype: 'FP32',
            shape: [2, 4],
            data: new Float32Array([1, 2, 3, 4, 5, Number.NaN, 7, 8]),
          }),
        ],
      },
      Code.INVALID_ARGUMENT,
      'raw_input_contents[0]: input "features" holds NaN at element [1,1] (index 5); model "truck-roll-logreg" version "1" accepts finite values only: send a finite value, or register a version whose input declares accepts_non_finite',
    ],
    [
      'an infinity in typed FP32 contents',
      {
        modelName: 'truck-roll-gbt',
        inputs: [
          {
            name: 'features',
            datatype: 'FP32',
            shape: [1n, 8n],
            contents: { fp32Contents: [0, 0, -Infinity, 0, 0, 0, 0, 0] },
          },
        ],
      },
      Code.INVALID_ARGUMENT,
      'inputs[0].contents.fp32_contents[2]: input "features" holds -Infinity at element [0,2] (index 2); model "truck-roll-gbt" version "1" accepts finite values only: send a finite value, or register a version whose input declares accepts_non_finite',
    ],
  ] as const)('refuses %s with a precise status', async (_case, request, code, message) => {
    const error = await infer(request as unknown as Parameters<typeof client.modelInfer>[0]);
    expect(error).toBeInstanceOf(RpcError);
    expect(error?.code).toBe(code);
    expect(error?.message).toBe(message);
  });
});

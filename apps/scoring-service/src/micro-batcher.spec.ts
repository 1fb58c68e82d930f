import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOnnxModel, type OnnxModel } from '@scoregate/inference';
import type { Tensor } from '@scoregate/inference-protocol';
import { createMicroBatcher } from './micro-batcher.js';

const fixtures = join(import.meta.dirname, '../../../tools/models/fixtures');
let model: OnnxModel;
let runs: number[];
/** The real model, counting the rows of each native run. */
let counting: OnnxModel;

beforeAll(async () => {
  model = await loadOnnxModel(join(fixtures, 'truck-roll-gbt/1/model.onnx'));
  counting = {
    inputs: model.inputs,
    outputs: model.outputs,
    run: (feeds) => {
      runs.push(feeds['features']?.shape[0] ?? 0);
      return model.run(feeds);
    },
    release: () => model.release(),
  };
});
afterAll(() => model.release());

const rowsOf = (rows: number, seed: number): Tensor => ({
  datatype: 'FP32',
  shape: [rows, 8],
  data: Float32Array.from({ length: rows * 8 }, (_, i) => ((i * 7 + seed * 13) % 17) / 3),
});

describe('micro-batching', () => {
  it('runs a call that finds the model idle at once, alone', async () => {
    runs = [];
    const batcher = createMicroBatcher(counting, { enabled: true, maxBatchRows: 256 });
    await batcher.run({ features: rowsOf(1, 1) });
    expect(runs).toEqual([1]);
  });

  it('coalesces calls arriving during a run into one batch and gives each its own rows', async () => {
    runs = [];
    const batcher = createMicroBatcher(counting, { enabled: true, maxBatchRows: 256 });
    const inputs = [1, 3, 2, 32, 1].map((rows, seed) => rowsOf(rows, seed));
    const batched = await Promise.all(inputs.map((features) => batcher.run({ features })));
    expect(runs).toEqual([1, 38]);
    for (const [i, features] of inputs.entries()) {
      const alone = await model.run({ features });
      expect(batched[i]?.['probabilities']?.shape).toEqual(alone['probabilities']?.shape);
      expect(Array.from(batched[i]?.['probabilities']?.data as Float32Array)).toEqual(
        Array.from(alone['probabilities']?.data as Float32Array),
      );
      expect(batched[i]?.['label']?.data).toEqual(alone['label']?.data);
    }
  });

  it('never puts more than maxBatchRows rows in one run', async () => {
    runs = [];
    const batcher = createMicroBatcher(counting, { enabled: true, maxBatchRows: 4 });
    await Promise.all(
      [1, 2, 2, 2, 1].map((rows, seed) => batcher.run({ features: rowsOf(rows, seed) })),
    );
    expect(runs).toEqual([1, 4, 3]);
  });

  it('runs call by call when batching is off', async () => {
    runs = [];
    const batcher = createMicroBatcher(counting, { enabled: false, maxBatchRows: 256 });
    await Promise.all([1, 2, 3].map((rows, seed) => batcher.run({ features: rowsOf(rows, seed) })));
    expect(runs).toEqual([1, 2, 3]);
  });
});

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOnnxModel, type OnnxModel } from '@scoregate/inference';
import { createModelStore } from './model-store.js';
import { createServedModel, type ServedModel } from './served-model.js';

const fixtures = join(import.meta.dirname, '../../../tools/models/fixtures');
const batching = { enabled: true, maxBatchRows: 256 };
let models: OnnxModel[] = [];

beforeAll(async () => {
  models = await Promise.all(
    [1, 2, 3].map(() => loadOnnxModel(join(fixtures, 'truck-roll-logreg/1/model.onnx'))),
  );
});
afterAll(async () => {
  await Promise.all(models.map((m) => m.release().catch(() => undefined)));
});

function served(version: string): ServedModel {
  return createServedModel({
    name: 'm',
    version,
    model: models[Number(version) - 1] as OnnxModel,
    batching,
  });
}

describe('model addressing', () => {
  it('resolves a version number, an alias, and empty as champion then the highest version', () => {
    const store = createModelStore();
    store.add(served('1'));
    store.add(served('2'));
    expect(store.get('m', '')?.version).toBe('2');
    expect(store.get('m', '1')?.version).toBe('1');
    expect(store.setAlias('m', 'champion', '1')).toBe(true);
    expect(store.get('m', '')?.version).toBe('1');
    expect(store.get('m', 'champion')?.version).toBe('1');
    expect(store.get('m', 'canary')).toBeUndefined();
    expect(store.get('m', '3')).toBeUndefined();
    expect(store.setAlias('m', 'canary', '3')).toBe(false);
  });

  it('releases a removed version only after the calls holding it have finished', async () => {
    const store = createModelStore();
    const v3 = served('3');
    store.add(v3);
    const lease = store.acquire('m', '3');
    let removed = false;
    const removal = store.remove('m', '3').then(() => (removed = true));
    expect(store.get('m', '3')).toBeUndefined();
    await new Promise((r) => setTimeout(r, 20));
    expect(removed).toBe(false);
    const reply = await lease?.served.run({
      features: { datatype: 'FP32', shape: [1, 4], data: new Float32Array(4) },
    });
    expect(reply?.['probabilities']?.shape).toEqual([1, 2]);
    lease?.release();
    await removal;
    expect(removed).toBe(true);
  });
});

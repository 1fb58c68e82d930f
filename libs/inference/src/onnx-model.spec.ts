import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadOnnxModel } from './index.js';

const fixtures = join(import.meta.dirname, '../../../tools/models/fixtures');
interface Manifest {
  models: { name: string; file: string; input: { name: string }; features: { ref: string }[] }[];
}
interface Golden {
  sample: { columns: string[]; rows: number[][] };
  predictions: Record<string, { label: number[]; probabilities: number[][]; columns?: string[] }>;
}
const manifest = JSON.parse(readFileSync(join(fixtures, 'manifest.json'), 'utf8')) as Manifest;
const golden = JSON.parse(readFileSync(join(fixtures, 'golden.json'), 'utf8')) as Golden;

describe('onnxruntime-node parity with Python onnxruntime', () => {
  it.each(manifest.models.map((m) => [m.name, m] as const))(
    '%s matches the golden predictions within 1e-5',
    async (_name, model) => {
      const onnx = await loadOnnxModel(join(fixtures, model.file));
      const columns = model.features.map((f) => f.ref.split(':')[1] as string);
      const indexes = columns.map((c) => golden.sample.columns.indexOf(c));
      expect(indexes).not.toContain(-1);
      const rows = golden.sample.rows;
      const data = new Float32Array(rows.flatMap((row) => indexes.map((i) => row[i] as number)));
      const result = await onnx.run({
        [model.input.name]: { datatype: 'FP32', shape: [rows.length, columns.length], data },
      });
      const expected = golden.predictions[model.name];
      expect(expected).toBeDefined();
      expect(Array.from(result['label']?.data as BigInt64Array, Number)).toEqual(expected?.label);
      const probabilities = result['probabilities']?.data as Float32Array;
      expect(result['probabilities']?.shape).toEqual([rows.length, 2]);
      expected?.probabilities.forEach((pair, row) => {
        expect(Math.abs((probabilities[row * 2] as number) - (pair[0] as number))).toBeLessThan(
          1e-5,
        );
        expect(Math.abs((probabilities[row * 2 + 1] as number) - (pair[1] as number))).toBeLessThan(
          1e-5,
        );
      });
      await onnx.release();
    },
  );

  it('reports the input and output signature of a model', async () => {
    const onnx = await loadOnnxModel(readFileSync(join(fixtures, 'truck-roll-gbt/1/model.onnx')));
    expect(onnx.inputs).toEqual([{ name: 'features', datatype: 'FP32', shape: [-1, 8] }]);
    expect(onnx.outputs.map((o) => [o.name, o.datatype])).toEqual([
      ['label', 'INT64'],
      ['probabilities', 'FP32'],
    ]);
    await onnx.release();
  });

  it('refuses a corrupt model file', async () => {
    await expect(loadOnnxModel(join(fixtures, 'broken/model.onnx'))).rejects.toThrow();
  });
});

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, type RunningService } from '@scoregate/stack';
import { listModels, pushModel, removeAlias, setAlias, showModel } from './models-command.js';
import type { CommandIo } from './registry-io.js';
import { applyScorers } from './scorers-command.js';

// A real registry-service process (the built dist) on a free port, with a data folder of its own.
const root = fileURLToPath(new URL('../../..', import.meta.url));
const fixtures = path.join(root, 'tools/models/fixtures');
let registry: RunningService | undefined;
let address: string;
let dir: string;
let signatureFile: string;

function capture(): CommandIo & { lines: string[]; errors: string[]; drawn: () => string } {
  const lines: string[] = [];
  const errors: string[] = [];
  const progress = new PassThrough();
  const drawn: Buffer[] = [];
  progress.on('data', (d: Buffer) => drawn.push(d));
  return {
    lines,
    errors,
    out: (line) => lines.push(line),
    err: (line) => errors.push(line),
    progress,
    drawn: () => Buffer.concat(drawn).toString(),
  };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'cli-models-'));
  registry = await startService({
    name: 'registry-service',
    port: 0,
    env: { REGISTRY_DATA_DIR: path.join(dir, 'registry'), REGISTRY_CATALOGUE_FILE: 'none' },
  });
  address = registry.address;
  // The signature of truck-roll-gbt, written as a user would: ModelVersionSpec canonical JSON.
  const manifest = JSON.parse(await readFile(path.join(fixtures, 'manifest.json'), 'utf8')) as {
    models: { name: string; input: unknown; outputs: unknown; features: { ref: string }[] }[];
  };
  const gbt = manifest.models.find((m) => m.name === 'truck-roll-gbt')!;
  signatureFile = path.join(dir, 'signature.json');
  await writeFile(
    signatureFile,
    JSON.stringify({
      contract: {
        inputs: gbt.features.map((f) => ({
          ref: f.ref,
          dtype: 'VALUE_TYPE_DOUBLE',
          required: true,
        })),
      },
      input: gbt.input,
      outputs: gbt.outputs,
    }),
  );
});

afterAll(async () => {
  await registry?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('scoregate models push', () => {
  it('streams the ONNX file behind a progress bar and prints the registered version', async () => {
    const io = capture();
    const file = path.join(fixtures, 'truck-roll-gbt/1/model.onnx');
    const code = await pushModel(
      { registry: address, file, name: 'cli-model', signature: signatureFile, forceProgress: true },
      io,
    );
    expect(io.errors).toEqual([]);
    expect(code).toBe(0);
    expect(io.lines[0]).toMatch(
      /^registered cli-model version 1 \(sha256 b22103bc590423ba3cf229cddf06f0b3aeb6606ac1106622d18ca3aede60bb2f, 28808 bytes, revision 1\)$/,
    );
    expect(io.drawn()).toContain('100% | 28808/28808 bytes');

    const again = capture();
    expect(
      await pushModel(
        { registry: address, file, name: 'cli-model', signature: signatureFile },
        again,
      ),
    ).toBe(0);
    expect(again.lines[0]).toContain('cli-model version 1 already holds these bytes');
  });

  it('prints the refusal of an ONNX that does not match its signature and exits 1', async () => {
    const io = capture();
    const code = await pushModel(
      {
        registry: address,
        file: path.join(fixtures, 'mismatch/model.onnx'),
        name: 'cli-mismatch',
        signature: signatureFile,
      },
      io,
    );
    expect(code).toBe(1);
    expect(io.errors[0]).toBe(
      'error: INVALID_ARGUMENT header.spec: the ONNX model does not match the declared signature: input is declared "features" FP32 [-1, 8] but the model has "features" FP32 [-1, 3]',
    );
  });

  it('exits 2 naming the option when the signature is not a ModelVersionSpec', async () => {
    const io = capture();
    const code = await pushModel(
      { registry: address, file: signatureFile, name: 'x', signature: '{"inputz": 1}' },
      io,
    );
    expect(code).toBe(2);
    expect(io.errors[0]).toMatch(
      /^error: --signature: not a scoregate\.registry\.v1\.ModelVersionSpec/,
    );
  });
});

describe('scoregate models list/show/alias and scorers apply', () => {
  it('lists the model, moves an alias, shows the version through it, and applies a scorer that uses it', async () => {
    const set = capture();
    expect(
      await setAlias(
        { registry: address, model: 'cli-model', alias: 'champion', version: '1', reason: 'first' },
        set,
      ),
    ).toBe(0);
    expect(set.lines[0]).toMatch(/^cli-model\/champion: \(new\) -> 1 \(revision \d+\)$/);

    const list = capture();
    expect(await listModels(address, list)).toBe(0);
    expect(list.lines[0]).toMatch(/^MODEL\s+LATEST\s+ALIASES\s+CREATED$/);
    expect(list.lines[1]).toMatch(/^cli-model\s+1\s+champion=1\s+\d{4}-/);

    const show = capture();
    expect(await showModel({ registry: address, name: 'cli-model', alias: 'champion' }, show)).toBe(
      0,
    );
    expect(JSON.parse(show.lines[0]!)).toMatchObject({
      model: 'cli-model',
      version: '1',
      spec: { framework: 'onnx' },
    });

    const scorerFile = path.join(dir, 'scorer.json');
    await writeFile(
      scorerFile,
      JSON.stringify({
        name: 'cli-route',
        entityType: 'customer',
        budget: '0.050s',
        chain: [{ model: 'cli-model', alias: 'champion' }],
        defaultAnswer: { score: 0.3, reason: 'base rate' },
        scoreOutput: 'probabilities',
        scoreIndex: 1,
      }),
    );
    const apply = capture();
    expect(await applyScorers(address, scorerFile, apply)).toBe(0);
    expect(apply.lines[0]).toMatch(
      /^applied scorer cli-route: cli-model@champion, budget 50 ms \(revision \d+\)$/,
    );

    const rm = capture();
    expect(
      await removeAlias({ registry: address, model: 'cli-model', alias: 'champion' }, rm),
    ).toBe(1);
    expect(rm.errors[0]).toBe(
      'error: FAILED_PRECONDITION alias "champion" of model "cli-model" is used by scorer(s) "cli-route"; change or delete them first',
    );
  });
});

import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CatalogueError,
  DEFAULT_CATALOGUE_FILE,
  DEFAULT_MANIFEST_FILE,
  loadCatalogue,
} from './catalogue.js';

const dirs: string[] = [];
afterEach(async () => {
  while (dirs.length > 0) await rm(dirs.pop()!, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'registry-catalogue-'));
  dirs.push(dir);
  return dir;
}

type Demo = {
  aliases: Record<string, Record<string, string>>;
  scorers: Array<Record<string, unknown> & { chain: { model: string; alias: string }[] }>;
};

/** Writes a variant of the demo catalogue file and returns its path. */
async function demoVariant(change: (demo: Demo) => void): Promise<string> {
  const demo = JSON.parse(await readFile(DEFAULT_CATALOGUE_FILE, 'utf8')) as Demo;
  change(demo);
  const file = path.join(await tempDir(), 'catalogue.json');
  await writeFile(file, JSON.stringify(demo));
  return file;
}

async function loadError(options: Parameters<typeof loadCatalogue>[0]): Promise<CatalogueError> {
  const error = await loadCatalogue(options).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CatalogueError);
  return error as CatalogueError;
}

describe('loadCatalogue', () => {
  it('loads the fixture manifest and the demo catalogue with their aliases resolved', async () => {
    const catalogue = await loadCatalogue();
    expect((await catalogue.listModels()).map((m) => [m.name, m.aliases])).toEqual([
      ['truck-roll-gbt', { champion: '1' }],
      ['truck-roll-logreg', { champion: '1' }],
    ]);
    const logreg = await catalogue.getVersion('truck-roll-logreg', '1');
    expect(logreg?.spec?.contract?.inputs).toHaveLength(4);
    expect(logreg?.spec?.opset).toBe('17');
    expect(logreg?.spec?.tags).toMatchObject({
      'training-framework': 'sklearn',
      estimator: 'LogisticRegression',
    });
    expect((await catalogue.snapshot()).revision).toBe(1n);
  });

  it('fails when a scorer chain names an alias that does not exist, naming the scorer, step and alias', async () => {
    const file = await demoVariant((demo) => {
      demo.scorers[0]!.chain[1] = { model: 'truck-roll-logreg', alias: 'fallback' };
    });
    const error = await loadError({ catalogueFile: file });
    expect(error.message).toBe(
      `${file}: scorers[0] "truck-roll-priority".chain[1].alias: model "truck-roll-logreg" has no alias "fallback" (aliases: champion)`,
    );
  });

  it('fails when a scorer chain names an unknown model', async () => {
    const file = await demoVariant((demo) => {
      demo.scorers[0]!.chain[0] = { model: 'truck-roll-nn', alias: 'champion' };
    });
    const error = await loadError({ catalogueFile: file });
    expect(error.message).toContain(
      'scorers[0] "truck-roll-priority".chain[0].model: model "truck-roll-nn" does not exist',
    );
  });

  it('fails when an alias points at a version that does not exist', async () => {
    const file = await demoVariant((demo) => {
      demo.aliases['truck-roll-gbt'] = { champion: '2' };
    });
    const error = await loadError({ catalogueFile: file });
    expect(error.message).toBe(
      `${file}: aliases["truck-roll-gbt"]["champion"]: model "truck-roll-gbt" has no version "2" (versions: 1)`,
    );
  });

  it('fails when the score output is not an output of a chain model', async () => {
    const file = await demoVariant((demo) => {
      demo.scorers[0]!['scoreOutput'] = 'probability';
    });
    const error = await loadError({ catalogueFile: file });
    expect(error.message).toContain(
      'scorers[0] "truck-roll-priority".score_output: "probability" is not an output of truck-roll-gbt version 1',
    );
  });

  it('fails when a scorer field breaks a rule of PutScorer, with its message under the entry', async () => {
    const file = await demoVariant((demo) => {
      demo.scorers[0]!['budget'] = '61s';
    });
    const error = await loadError({ catalogueFile: file });
    expect(error.message).toBe(
      `${file}: scorers[0] "truck-roll-priority".budget: must be positive and at most 60s (got 61000 ms)`,
    );
  });

  it('fails when a scorer is not valid canonical JSON for the Scorer message', async () => {
    const file = await demoVariant((demo) => {
      demo.scorers[0]!['budget'] = 'fifty milliseconds';
    });
    const error = await loadError({ catalogueFile: file });
    expect(error.message).toContain(
      'scorers[0] "truck-roll-priority": is not a valid scoregate.registry.v1.Scorer',
    );
  });

  it('fails when an artifact does not have the sha256 of the manifest', async () => {
    const fixtures = path.join(await tempDir(), 'fixtures');
    await cp(path.dirname(DEFAULT_MANIFEST_FILE), fixtures, { recursive: true });
    const manifestFile = path.join(fixtures, 'manifest.json');
    await writeFile(path.join(fixtures, 'truck-roll-logreg/1/model.onnx'), Buffer.alloc(969));
    const error = await loadError({ manifestFile });
    expect(error.message).toContain(`${manifestFile}: models[1] "truck-roll-logreg".file:`);
    expect(error.message).toContain('the manifest says b94d1308');
  });

  it('fails when a manifest entry breaks a rule of an upload, naming the file, entry and field', async () => {
    const fixtures = path.join(await tempDir(), 'fixtures');
    await cp(path.dirname(DEFAULT_MANIFEST_FILE), fixtures, { recursive: true });
    const manifestFile = path.join(fixtures, 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as {
      models: { outputs: { datatype: string }[] }[];
    };
    manifest.models[0]!.outputs[0]!.datatype = 'FLOAT';
    await writeFile(manifestFile, JSON.stringify(manifest));
    const error = await loadError({ manifestFile });
    expect(error.message).toContain(
      `${manifestFile}: models[0] "truck-roll-gbt".outputs[0].datatype: must be a KServe v2 datatype`,
    );
  });

  it("reads an input's acceptsNonFinite into the version spec, and refuses one that is not a boolean", async () => {
    const fixtures = path.join(await tempDir(), 'fixtures');
    await cp(path.dirname(DEFAULT_MANIFEST_FILE), fixtures, { recursive: true });
    const manifestFile = path.join(fixtures, 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as {
      models: { input: { acceptsNonFinite?: unknown } }[];
    };
    manifest.models[0]!.input.acceptsNonFinite = true;
    await writeFile(manifestFile, JSON.stringify(manifest));
    const catalogue = await loadCatalogue({ manifestFile });
    const gbt = await catalogue.getVersion('truck-roll-gbt', '1');
    const logreg = await catalogue.getVersion('truck-roll-logreg', '1');
    expect([gbt?.spec?.input?.acceptsNonFinite, logreg?.spec?.input?.acceptsNonFinite]).toEqual([
      true,
      false,
    ]);
    manifest.models[0]!.input.acceptsNonFinite = 'yes';
    await writeFile(manifestFile, JSON.stringify(manifest));
    const error = await loadError({ manifestFile });
    expect(error.message).toContain(
      `${manifestFile}: models[0] "truck-roll-gbt".input.acceptsNonFinite: must be true or false`,
    );
  });

  it('refuses an artifact path that escapes the fixtures directory', async () => {
    const dir = await tempDir();
    const manifest = JSON.parse(await readFile(DEFAULT_MANIFEST_FILE, 'utf8')) as {
      models: { file: string }[];
    };
    manifest.models[0]!.file = '../outside/model.onnx';
    const manifestFile = path.join(dir, 'manifest.json');
    await writeFile(manifestFile, JSON.stringify(manifest));
    const error = await loadError({ manifestFile });
    expect(error.message).toContain('models[0] "truck-roll-gbt".file: must be a path inside');
  });
});

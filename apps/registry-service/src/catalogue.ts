import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { create, fromJson, type JsonValue } from '@bufbuild/protobuf';
import { durationMs, timestampFromDate, type Timestamp } from '@bufbuild/protobuf/wkt';
import {
  AliasMovedSchema,
  ModelSchema,
  ModelVersionSchema,
  ScorerSchema,
  ValueType,
  type AliasMoved,
  type FeatureInput,
  type Model,
  type ModelVersion,
  type Scorer,
  type TensorSpec,
} from '@scoregate/contracts';
import { PROTOCOL_DATATYPES } from '@scoregate/inference-protocol';
import { isFeatureRef, isName, isVersionNumber, nameRule, versionRule } from './names.js';
import type { RegistryReader, RegistrySnapshot } from './registry-reader.js';

/** The model fixtures of the repository (resolves the same from src/ and dist/). */
export const DEFAULT_MANIFEST_FILE = fileURLToPath(
  new URL('../../../tools/models/fixtures/manifest.json', import.meta.url),
);
/** The demo aliases and scorers shipped with the service. */
export const DEFAULT_CATALOGUE_FILE = fileURLToPath(
  new URL('../demo-catalogue.json', import.meta.url),
);

/** Who registered the catalogue's versions and moved its aliases. */
export const CATALOGUE_IDENTITY = 'catalogue';

/** A catalogue never changes after load: its whole state is revision 1. */
const CATALOGUE_REVISION = 1n;
const MAX_BUDGET_MS = 60_000;
const FEATURE_TYPES: Readonly<Record<string, ValueType>> = {
  double: ValueType.DOUBLE,
  int64: ValueType.INT64,
  string: ValueType.STRING,
  bool: ValueType.BOOL,
};
// Lineage keys of the manifest with a field of their own; the others become lineage.parameters.
const LINEAGE_FIELDS = new Set([
  'codeRevision',
  'trainer',
  'datasetSha256',
  'parentVersion',
  'dataFrom',
  'dataTo',
]);

/** The catalogue files are wrong; the message names the file and the entry at fault. */
export class CatalogueError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CatalogueError';
  }
}

export interface CatalogueOptions {
  /** The model manifest (tools/models/fixtures/manifest.json format); artifacts are read relative to its directory. */
  readonly manifestFile?: string;
  /** Aliases and scorers (apps/registry-service/demo-catalogue.json format). */
  readonly catalogueFile?: string;
}

/** A read-only registry, loaded once from a model manifest and a catalogue file. */
export interface Catalogue extends RegistryReader {
  readonly manifestFile: string;
  readonly catalogueFile: string;
  readonly revision: bigint;
}

interface ModelEntry {
  model: Model;
  /** Version number → version. */
  readonly versions: Map<string, ModelVersion>;
  /** Version number → absolute artifact path. */
  readonly artifacts: Map<string, string>;
}

/**
 * Loads and validates the manifest and the catalogue file. Every artifact is checked against the
 * manifest's size and sha256, every alias must point at an existing version, and every scorer must
 * only use models and aliases that exist and whose versions have its score output. Throws a
 * {@link CatalogueError} naming the first bad entry.
 */
export async function loadCatalogue(options: CatalogueOptions = {}): Promise<Catalogue> {
  const manifestFile = path.resolve(options.manifestFile ?? DEFAULT_MANIFEST_FILE);
  const catalogueFile = path.resolve(options.catalogueFile ?? DEFAULT_CATALOGUE_FILE);
  const models = await loadManifest(manifestFile);
  const { aliases, scorers } = await loadAliasesAndScorers(catalogueFile, manifestFile, models);
  return createCatalogue(manifestFile, catalogueFile, models, aliases, scorers);
}

function createCatalogue(
  manifestFile: string,
  catalogueFile: string,
  models: Map<string, ModelEntry>,
  aliases: readonly AliasMoved[],
  scorers: Map<string, Scorer>,
): Catalogue {
  const byName = <T>(entries: Iterable<[string, T]>) =>
    [...entries].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, v]) => v);
  const modelList = byName(
    [...models].map(([name, entry]) => [name, entry.model] as [string, Model]),
  );
  const scorerList = byName(scorers);
  const newestFirst = (entry: ModelEntry) =>
    [...entry.versions.values()].sort((a, b) => compareVersions(b.version, a.version));
  const snapshot: RegistrySnapshot = {
    revision: CATALOGUE_REVISION,
    versions: modelList.flatMap((model) => newestFirst(models.get(model.name)!).reverse()),
    aliases,
    scorers: scorerList,
  };
  return {
    manifestFile,
    catalogueFile,
    revision: CATALOGUE_REVISION,
    source: `${manifestFile} and ${catalogueFile}`,
    listModels: async () => modelList,
    getModel: async (name) => models.get(name)?.model,
    listVersions: async (model) => {
      const entry = models.get(model);
      return entry && newestFirst(entry);
    },
    getVersion: async (model, version) => models.get(model)?.versions.get(version),
    listScorers: async () => scorerList,
    getScorer: async (name) => scorers.get(name),
    snapshot: async () => snapshot,
    readArtifact: (model, version, chunkBytes) => {
      const file = models.get(model)?.artifacts.get(version);
      if (file === undefined)
        throw new CatalogueError(`model "${model}" has no version "${version}"`);
      return createReadStream(file, { highWaterMark: chunkBytes });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The model manifest

async function loadManifest(file: string): Promise<Map<string, ModelEntry>> {
  const { json, mtime } = await readJson(file);
  const check: Checker = checker(file);
  const root = check.object(json, '(root)');
  const entries = check.array(root['models'], 'models');
  const registeredAt = timestampFromDate(mtime);
  const models = new Map<string, ModelEntry>();
  for (const [index, raw] of entries.entries()) {
    const entry = check.object(raw, `models[${index}]`);
    const name = check.string(entry['name'], `models[${index}].name`);
    if (!isName(name)) check.fail(`models[${index}].name`, nameRule(name));
    const at = `models[${index}] "${name}"`;
    const version = check.string(entry['version'], `${at}.version`);
    if (!isVersionNumber(version)) check.fail(`${at}.version`, versionRule(version));

    let model = models.get(name);
    if (model?.versions.has(version))
      check.fail(`${at}.version`, `version "${version}" of "${name}" is listed twice`);
    const { modelVersion, artifact } = await manifestVersion(
      check,
      path.dirname(file),
      entry,
      at,
      name,
      version,
      registeredAt,
    );
    if (model === undefined) {
      model = {
        model: create(ModelSchema, { name, createdAt: registeredAt, latestVersion: version }),
        versions: new Map(),
        artifacts: new Map(),
      };
      models.set(name, model);
    }
    model.versions.set(version, modelVersion);
    model.artifacts.set(version, artifact);
    if (compareVersions(version, model.model.latestVersion) > 0)
      model.model.latestVersion = version;
  }
  return models;
}

async function manifestVersion(
  check: Checker,
  fixturesDir: string,
  entry: Record<string, unknown>,
  at: string,
  model: string,
  version: string,
  registeredAt: Timestamp,
): Promise<{ modelVersion: ModelVersion; artifact: string }> {
  const sha256 = check.string(entry['sha256'], `${at}.sha256`);
  if (!/^[0-9a-f]{64}$/.test(sha256))
    check.fail(`${at}.sha256`, 'must be 64 lower-case hex characters');
  const sizeBytes = check.integer(entry['sizeBytes'], `${at}.sizeBytes`);
  if (sizeBytes <= 0) check.fail(`${at}.sizeBytes`, `must be positive (got ${sizeBytes})`);
  const fileName = check.string(entry['file'], `${at}.file`);
  if (!fileName.endsWith('.onnx'))
    check.fail(
      `${at}.file`,
      `must be an ONNX artifact (*.onnx), the format the scoring-service runs (got "${fileName}")`,
    );
  const artifact = await checkArtifact(
    check,
    fixturesDir,
    fileName,
    `${at}.file`,
    sizeBytes,
    sha256,
  );

  const features = check.array(entry['features'], `${at}.features`);
  if (features.length === 0) check.fail(`${at}.features`, 'must list at least one feature');
  const inputs = features.map((raw, i) => featureInput(check, raw, `${at}.features[${i}]`));
  const seen = new Set<string>();
  for (const [i, input] of inputs.entries()) {
    if (seen.has(input.ref))
      check.fail(`${at}.features[${i}].ref`, `"${input.ref}" is listed twice`);
    seen.add(input.ref);
  }
  const input = tensorSpec(check, entry['input'], `${at}.input`);
  const width = input.shape.length === 2 ? input.shape[1] : undefined;
  if (input.shape[0] !== -1n || width !== BigInt(inputs.length)) {
    check.fail(
      `${at}.input.shape`,
      `must be [-1, ${inputs.length}] (one column per feature; got [${input.shape.join(', ')}])`,
    );
  }
  const outputs = check
    .array(entry['outputs'], `${at}.outputs`)
    .map((raw, i) => tensorSpec(check, raw, `${at}.outputs[${i}]`));
  if (outputs.length === 0) check.fail(`${at}.outputs`, 'must list at least one output');

  const trainingFramework = check.optionalString(entry['framework'], `${at}.framework`);
  const estimator = check.optionalString(entry['estimator'], `${at}.estimator`);
  const opsets = opsetsOf(check, entry['opset'], `${at}.opset`);
  const tags: Record<string, string> = {};
  if (trainingFramework) tags['training-framework'] = trainingFramework;
  if (estimator) tags['estimator'] = estimator;
  if (entry['irVersion'] !== undefined)
    tags['onnx-ir-version'] = String(check.integer(entry['irVersion'], `${at}.irVersion`));
  const trainedWith = [estimator, trainingFramework && `(${trainingFramework})`]
    .filter(Boolean)
    .join(' ');

  const modelVersion = create(ModelVersionSchema, {
    model,
    version,
    sha256,
    sizeBytes: BigInt(sizeBytes),
    registeredBy: CATALOGUE_IDENTITY,
    registeredAt,
    spec: {
      contract: { inputs },
      input,
      outputs,
      // The artifact format: the manifest's `framework` is the training library (kept as a tag).
      framework: 'onnx',
      opset: opsets.get('ai.onnx') ?? '',
      metrics: metricsOf(check, entry['metrics'], `${at}.metrics`),
      lineage: lineageOf(check, entry['lineage'], `${at}.lineage`, trainedWith),
      tags,
      description: [
        trainedWith || 'model',
        'exported to ONNX',
        opsets.size > 0
          ? `with opsets ${[...opsets].map(([domain, v]) => `${domain} ${v}`).join(', ')}`
          : '',
      ]
        .filter(Boolean)
        .join(' '),
    },
  });
  return { modelVersion, artifact };
}

/** Resolves an artifact inside the fixtures directory and checks it is the one the manifest describes. */
async function checkArtifact(
  check: Checker,
  fixturesDir: string,
  fileName: string,
  at: string,
  sizeBytes: number,
  sha256: string,
): Promise<string> {
  const artifact = path.resolve(fixturesDir, fileName);
  const relative = path.relative(fixturesDir, artifact);
  if (path.isAbsolute(fileName) || relative.startsWith('..') || path.isAbsolute(relative)) {
    check.fail(at, `must be a path inside ${fixturesDir} (got "${fileName}")`);
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(artifact);
  } catch (error) {
    return check.fail(at, `cannot read ${artifact}: ${(error as Error).message}`);
  }
  if (bytes.length !== sizeBytes)
    check.fail(at, `${artifact} has ${bytes.length} bytes, the manifest says ${sizeBytes}`);
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== sha256)
    check.fail(at, `${artifact} has sha256 ${actual}, the manifest says ${sha256}`);
  return artifact;
}

function featureInput(check: Checker, raw: unknown, at: string): Omit<FeatureInput, '$typeName'> {
  const feature = check.object(raw, at);
  const ref = check.string(feature['ref'], `${at}.ref`);
  if (!isFeatureRef(ref))
    check.fail(
      `${at}.ref`,
      `must be "view:feature" or a bare feature name, each part a Scoregate name (got "${ref}")`,
    );
  const dtypeName = check.string(feature['dtype'], `${at}.dtype`);
  const dtype = FEATURE_TYPES[dtypeName];
  if (dtype === undefined)
    check.fail(
      `${at}.dtype`,
      `must be one of ${Object.keys(FEATURE_TYPES).join(', ')} (got "${dtypeName}")`,
    );
  const required = feature['required'] ?? false;
  if (typeof required !== 'boolean') check.fail(`${at}.required`, 'must be true or false');
  return { ref, dtype, required };
}

function tensorSpec(check: Checker, raw: unknown, at: string): Omit<TensorSpec, '$typeName'> {
  const tensor = check.object(raw, at);
  const name = check.string(tensor['name'], `${at}.name`);
  const datatype = check.string(tensor['datatype'], `${at}.datatype`);
  if (!PROTOCOL_DATATYPES.has(datatype))
    check.fail(
      `${at}.datatype`,
      `must be a KServe v2 datatype, one of ${[...PROTOCOL_DATATYPES].join(', ')} (got "${datatype}")`,
    );
  const shape = check.array(tensor['shape'], `${at}.shape`).map((dim, i) => {
    const value = check.integer(dim, `${at}.shape[${i}]`);
    if (value < -1 || value === 0)
      check.fail(
        `${at}.shape[${i}]`,
        `must be positive, or -1 for a variable dimension (got ${value})`,
      );
    return BigInt(value);
  });
  const description = check.optionalString(tensor['description'], `${at}.description`) ?? '';
  return { name, datatype, shape, description };
}

/** The manifest's opsets, domain → version as text; a bare number is the `ai.onnx` opset. */
function opsetsOf(check: Checker, raw: unknown, at: string): Map<string, string> {
  if (raw === undefined) return new Map();
  if (typeof raw === 'number') return new Map([['ai.onnx', String(check.integer(raw, at))]]);
  return new Map(
    Object.entries(check.object(raw, at)).map(([domain, v]) => [
      domain,
      String(check.integer(v, `${at}.${domain}`)),
    ]),
  );
}

function metricsOf(check: Checker, raw: unknown, at: string): Record<string, number> {
  if (raw === undefined) return {};
  return Object.fromEntries(
    Object.entries(check.object(raw, at)).map(([name, v]) => [
      name,
      check.number(v, `${at}.${name}`),
    ]),
  );
}

function lineageOf(check: Checker, raw: unknown, at: string, trainedWith: string) {
  const lineage = raw === undefined ? {} : check.object(raw, at);
  const text = (key: string) => check.optionalString(lineage[key], `${at}.${key}`) ?? '';
  const time = (key: string) => {
    const value = text(key);
    if (value === '') return undefined;
    const date = new Date(value);
    if (Number.isNaN(date.getTime()))
      check.fail(`${at}.${key}`, `must be an RFC 3339 time (got "${value}")`);
    return timestampFromDate(date);
  };
  const parentVersion = text('parentVersion');
  if (parentVersion !== '' && !isVersionNumber(parentVersion))
    check.fail(`${at}.parentVersion`, versionRule(parentVersion));
  const parameters = Object.fromEntries(
    Object.entries(lineage)
      .filter(([key]) => !LINEAGE_FIELDS.has(key))
      .map(([key, value]) => [key, typeof value === 'string' ? value : JSON.stringify(value)]),
  );
  return {
    dataFrom: time('dataFrom'),
    dataTo: time('dataTo'),
    datasetSha256: text('datasetSha256'),
    codeRevision: text('codeRevision'),
    trainer: text('trainer') || trainedWith,
    parameters,
    parentVersion,
  };
}

// ---------------------------------------------------------------------------------------------
// The catalogue file: aliases and scorers

const CATALOGUE_KEYS = new Set(['description', 'aliases', 'scorers']);

async function loadAliasesAndScorers(
  file: string,
  manifestFile: string,
  models: Map<string, ModelEntry>,
): Promise<{ aliases: AliasMoved[]; scorers: Map<string, Scorer> }> {
  const { json, mtime } = await readJson(file);
  const check: Checker = checker(file);
  const root = check.object(json, '(root)');
  for (const key of Object.keys(root)) {
    if (!CATALOGUE_KEYS.has(key))
      check.fail(key, `unknown key; expected ${[...CATALOGUE_KEYS].join(', ')}`);
  }
  const setAt = timestampFromDate(mtime);

  const aliases: AliasMoved[] = [];
  const aliasTable = root['aliases'] === undefined ? {} : check.object(root['aliases'], 'aliases');
  for (const [model, raw] of Object.entries(aliasTable).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const entry = models.get(model);
    if (entry === undefined)
      check.fail(
        `aliases["${model}"]`,
        `model "${model}" is not in the manifest ${manifestFile} (models: ${listOf(models.keys())})`,
      );
    const table = check.object(raw, `aliases["${model}"]`);
    for (const [alias, rawVersion] of Object.entries(table).sort(([a], [b]) => (a < b ? -1 : 1))) {
      const at = `aliases["${model}"]["${alias}"]`;
      if (!isName(alias)) check.fail(at, `alias ${nameRule(alias)}`);
      const version = check.string(rawVersion, at);
      if (!isVersionNumber(version)) check.fail(at, versionRule(version));
      if (!entry.versions.has(version))
        check.fail(
          at,
          `model "${model}" has no version "${version}" (versions: ${listOf(entry.versions.keys())})`,
        );
      entry.model.aliases[alias] = version;
      aliases.push(
        create(AliasMovedSchema, {
          model,
          alias,
          fromVersion: '',
          toVersion: version,
          reason: `set by the catalogue file ${file}`,
          movedBy: CATALOGUE_IDENTITY,
          movedAt: setAt,
        }),
      );
    }
  }

  const scorers = new Map<string, Scorer>();
  const entries = root['scorers'] === undefined ? [] : check.array(root['scorers'], 'scorers');
  for (const [index, raw] of entries.entries()) {
    const named =
      typeof (raw as { name?: unknown } | null)?.name === 'string'
        ? ` "${(raw as { name: string }).name}"`
        : '';
    const at = `scorers[${index}]${named}`;
    let scorer: Scorer;
    try {
      scorer = fromJson(ScorerSchema, raw as JsonValue);
    } catch (error) {
      return check.fail(
        at,
        `is not a valid scoregate.registry.v1.Scorer in canonical JSON: ${(error as Error).message}`,
      );
    }
    validateScorer(check, scorer, at, models);
    if (scorers.has(scorer.name)) check.fail(at, `scorer "${scorer.name}" is defined twice`);
    scorer.updatedAt = setAt;
    scorers.set(scorer.name, scorer);
  }
  return { aliases, scorers };
}

/** The rules RegistryService.PutScorer will apply, checked against the loaded models. */
function validateScorer(
  check: Checker,
  scorer: Scorer,
  at: string,
  models: Map<string, ModelEntry>,
): void {
  if (!isName(scorer.name)) check.fail(`${at}.name`, nameRule(scorer.name));
  if (!isName(scorer.entityType))
    check.fail(
      `${at}.entityType`,
      scorer.entityType === '' ? 'is required' : nameRule(scorer.entityType),
    );
  if (scorer.budget === undefined) check.fail(`${at}.budget`, 'is required, e.g. "0.050s"');
  const budget = durationMs(scorer.budget);
  if (budget <= 0 || budget > MAX_BUDGET_MS)
    check.fail(`${at}.budget`, `must be positive and at most 60s (got ${budget} ms)`);
  if (scorer.defaultAnswer === undefined) check.fail(`${at}.defaultAnswer`, 'is required');
  if (!Number.isFinite(scorer.defaultAnswer.score))
    check.fail(`${at}.defaultAnswer.score`, 'must be a finite number');
  if (scorer.scoreOutput === '')
    check.fail(`${at}.scoreOutput`, 'is required, e.g. "probabilities"');
  if (scorer.chain.length === 0) check.fail(`${at}.chain`, 'must have at least one step');

  for (const [i, step] of scorer.chain.entries()) {
    const version = resolveStep(check, `${at}.chain[${i}]`, step.model, step.alias, models);
    const output = version.spec?.outputs.find((o) => o.name === scorer.scoreOutput);
    if (output === undefined) {
      check.fail(
        `${at}.scoreOutput`,
        `"${scorer.scoreOutput}" is not an output of ${step.model} version ${version.version} (chain[${i}]; outputs: ${listOf(version.spec?.outputs.map((o) => o.name) ?? [])})`,
      );
    }
    const perEntity = output.shape
      .slice(1)
      .reduce((n, dim) => (dim < 0n || n < 0n ? -1n : n * dim), 1n);
    if (perEntity >= 0n && BigInt(scorer.scoreIndex) >= perEntity) {
      check.fail(
        `${at}.scoreIndex`,
        `${scorer.scoreIndex} is out of range: output "${output.name}" of ${step.model} version ${version.version} has ${perEntity} value(s) per entity`,
      );
    }
  }
  const canary = scorer.canary;
  if (canary !== undefined) {
    if (!(canary.share >= 0 && canary.share <= 1))
      check.fail(`${at}.canary.share`, `must be between 0 and 1 (got ${canary.share})`);
    if (canary.alias !== '')
      resolveStep(check, `${at}.canary`, scorer.chain[0]!.model, canary.alias, models);
  }
  const shadow = scorer.shadow;
  if (shadow !== undefined) {
    if (!(shadow.share >= 0 && shadow.share <= 1))
      check.fail(`${at}.shadow.share`, `must be between 0 and 1 (got ${shadow.share})`);
    if (shadow.model !== '') resolveStep(check, `${at}.shadow`, shadow.model, shadow.alias, models);
  }
}

function resolveStep(
  check: Checker,
  at: string,
  model: string,
  alias: string,
  models: Map<string, ModelEntry>,
): ModelVersion {
  if (!isName(model)) check.fail(`${at}.model`, model === '' ? 'is required' : nameRule(model));
  if (!isName(alias)) check.fail(`${at}.alias`, alias === '' ? 'is required' : nameRule(alias));
  const entry = models.get(model);
  if (entry === undefined)
    check.fail(`${at}.model`, `model "${model}" does not exist (models: ${listOf(models.keys())})`);
  const version = entry.model.aliases[alias];
  if (version === undefined)
    check.fail(
      `${at}.alias`,
      `model "${model}" has no alias "${alias}" (aliases: ${listOf(Object.keys(entry.model.aliases))})`,
    );
  return entry.versions.get(version)!;
}

// ---------------------------------------------------------------------------------------------
// Helpers

async function readJson(file: string): Promise<{ json: unknown; mtime: Date }> {
  let text: string;
  let mtime: Date;
  try {
    [text, { mtime }] = await Promise.all([readFile(file, 'utf8'), stat(file)]);
  } catch (error) {
    throw new CatalogueError(`${file}: cannot read: ${(error as Error).message}`, { cause: error });
  }
  try {
    return { json: JSON.parse(text), mtime };
  } catch (error) {
    throw new CatalogueError(`${file}: not valid JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Type checks of JSON values that fail with `file: where: why`. */
interface Checker {
  fail(at: string, reason: string): never;
  object(value: unknown, at: string): Record<string, unknown>;
  array(value: unknown, at: string): unknown[];
  string(value: unknown, at: string): string;
  optionalString(value: unknown, at: string): string | undefined;
  number(value: unknown, at: string): number;
  integer(value: unknown, at: string): number;
}

function checker(file: string): Checker {
  const fail = (at: string, reason: string): never => {
    throw new CatalogueError(`${file}: ${at}: ${reason}`);
  };
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  return {
    fail,
    object: (v: unknown, at: string) => (isObject(v) ? v : fail(at, 'must be an object')),
    array: (v: unknown, at: string) =>
      Array.isArray(v) ? (v as unknown[]) : fail(at, 'must be an array'),
    string: (v: unknown, at: string) =>
      typeof v === 'string' && v !== '' ? v : fail(at, 'must be a non-empty string'),
    optionalString: (v: unknown, at: string) =>
      v === undefined || typeof v === 'string' ? v : fail(at, 'must be a string'),
    number: (v: unknown, at: string) =>
      typeof v === 'number' && Number.isFinite(v) ? v : fail(at, 'must be a finite number'),
    integer: (v: unknown, at: string) =>
      Number.isSafeInteger(v) ? (v as number) : fail(at, 'must be an integer'),
  };
}

function compareVersions(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function listOf(names: Iterable<string>): string {
  const list = [...names];
  return list.length === 0 ? 'none' : list.join(', ');
}

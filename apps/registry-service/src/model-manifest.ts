import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  ModelSchema,
  ModelVersionSchema,
  type FeatureInput,
  type Model,
  type ModelVersion,
  type TensorSpec,
} from '@scoregate/contracts';
import { applyServiceRules, checker, readJson, type Checker } from './catalogue-json.js';
import { isName, isSha256, isVersionNumber, nameRule, versionRule } from './names.js';
import { VALUE_TYPE_NAMES, VALUE_TYPES } from './value-types.js';
import { checkVersionSpec } from './version-spec.js';

/** Who registered the catalogue's versions and moved its aliases. */
export const CATALOGUE_IDENTITY = 'catalogue';

// Lineage keys of the manifest with a field of their own; the others become lineage.parameters.
const LINEAGE_FIELDS = new Set([
  'codeRevision',
  'trainer',
  'datasetSha256',
  'parentVersion',
  'dataFrom',
  'dataTo',
]);

/** A model of the manifest with its versions. */
export interface ModelEntry {
  model: Model;
  /** Version number → version. */
  readonly versions: Map<string, ModelVersion>;
  /** Version number → absolute artifact path. */
  readonly artifacts: Map<string, string>;
}

/** Where in the manifest an entry is, and what it describes. */
interface EntryAt {
  readonly check: Checker;
  readonly entry: Record<string, unknown>;
  /** `models[i] "name"`, the prefix of every field of the entry in messages. */
  readonly at: string;
}

/**
 * Reads the model manifest (tools/models/fixtures/manifest.json format): each entry becomes a
 * version, its artifact checked against the manifest's size and sha256, its spec checked with
 * the rules of an upload (version-spec.ts).
 */
export async function loadManifest(file: string): Promise<Map<string, ModelEntry>> {
  const { json, mtime } = await readJson(file);
  const check = checker(file);
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
    if (models.get(name)?.versions.has(version))
      check.fail(`${at}.version`, `version "${version}" of "${name}" is listed twice`);
    const { artifact, sha256, sizeBytes } = await artifactOf(
      { check, entry, at },
      path.dirname(file),
    );
    const modelVersion = create(ModelVersionSchema, {
      model: name,
      version,
      sha256,
      sizeBytes: BigInt(sizeBytes),
      registeredBy: CATALOGUE_IDENTITY,
      registeredAt,
      spec: specOf({ check, entry, at }),
    });
    await applyServiceRules(file, () => checkVersionSpec(modelVersion.spec!, at));
    addVersion(models, modelVersion, artifact);
  }
  return models;
}

function addVersion(models: Map<string, ModelEntry>, version: ModelVersion, artifact: string) {
  let model = models.get(version.model);
  if (model === undefined) {
    model = {
      model: create(ModelSchema, {
        name: version.model,
        createdAt: version.registeredAt,
        latestVersion: version.version,
      }),
      versions: new Map(),
      artifacts: new Map(),
    };
    models.set(version.model, model);
  }
  model.versions.set(version.version, version);
  model.artifacts.set(version.version, artifact);
  if (compareVersions(version.version, model.model.latestVersion) > 0)
    model.model.latestVersion = version.version;
}

/** The entry's spec: its contract and tensors, training tags, metrics and lineage. */
function specOf({ check, entry, at }: EntryAt) {
  const { inputs, input, outputs } = contractOf({ check, entry, at });
  const trainingFramework = check.optionalString(entry['framework'], `${at}.framework`);
  const estimator = check.optionalString(entry['estimator'], `${at}.estimator`);
  const opsets = opsetsOf(check, entry['opset'], `${at}.opset`);
  const tags = tagsOf({ check, entry, at }, trainingFramework, estimator);
  const trainedWith = [estimator, trainingFramework && `(${trainingFramework})`]
    .filter(Boolean)
    .join(' ');
  return {
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
  };
}

/** The entry's sha256, size and file, with the artifact's absolute path once checked against them. */
async function artifactOf(
  { check, entry, at }: EntryAt,
  fixturesDir: string,
): Promise<{ artifact: string; sha256: string; sizeBytes: number }> {
  const sha256 = check.string(entry['sha256'], `${at}.sha256`);
  if (!isSha256(sha256)) check.fail(`${at}.sha256`, 'must be 64 lower-case hex characters');
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
  return { artifact, sha256, sizeBytes };
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

/** The entry's features (one column each of the input tensor), input and outputs. */
function contractOf({ check, entry, at }: EntryAt) {
  const inputs = check
    .array(entry['features'], `${at}.features`)
    .map((raw, i) => featureInput(check, raw, `${at}.features[${i}]`));
  const input = tensorSpec(check, entry['input'], `${at}.input`);
  const outputs = check
    .array(entry['outputs'], `${at}.outputs`)
    .map((raw, i) => tensorSpec(check, raw, `${at}.outputs[${i}]`));
  return { inputs, input, outputs };
}

function featureInput(check: Checker, raw: unknown, at: string): Omit<FeatureInput, '$typeName'> {
  const feature = check.object(raw, at);
  const ref = check.string(feature['ref'], `${at}.ref`);
  const dtypeName = check.string(feature['dtype'], `${at}.dtype`);
  const dtype = VALUE_TYPES[dtypeName];
  if (dtype === undefined)
    check.fail(`${at}.dtype`, `must be one of ${VALUE_TYPE_NAMES} (got "${dtypeName}")`);
  const required = feature['required'] ?? false;
  if (typeof required !== 'boolean') check.fail(`${at}.required`, 'must be true or false');
  return { ref, dtype, required };
}

function tensorSpec(check: Checker, raw: unknown, at: string): Omit<TensorSpec, '$typeName'> {
  const tensor = check.object(raw, at);
  const name = check.string(tensor['name'], `${at}.name`);
  const datatype = check.string(tensor['datatype'], `${at}.datatype`);
  const shape = check
    .array(tensor['shape'], `${at}.shape`)
    .map((dim, i) => BigInt(check.integer(dim, `${at}.shape[${i}]`)));
  const description = check.optionalString(tensor['description'], `${at}.description`) ?? '';
  const acceptsNonFinite = tensor['acceptsNonFinite'] ?? false;
  if (typeof acceptsNonFinite !== 'boolean')
    check.fail(`${at}.acceptsNonFinite`, 'must be true or false');
  return { name, datatype, shape, description, acceptsNonFinite };
}

/** The training library and estimator, and the ONNX IR version, as version tags. */
function tagsOf(
  { check, entry, at }: EntryAt,
  trainingFramework: string | undefined,
  estimator: string | undefined,
): Record<string, string> {
  const tags: Record<string, string> = {};
  if (trainingFramework) tags['training-framework'] = trainingFramework;
  if (estimator) tags['estimator'] = estimator;
  if (entry['irVersion'] !== undefined)
    tags['onnx-ir-version'] = String(check.integer(entry['irVersion'], `${at}.irVersion`));
  return tags;
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
    parentVersion: text('parentVersion'),
  };
}

/** Orders version numbers (decimal text) by value. */
export function compareVersions(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

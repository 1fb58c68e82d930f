import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { toBinary, create } from '@bufbuild/protobuf';
import {
  DeleteAliasRequestSchema,
  DeleteScorerRequestSchema,
  DownloadModelVersionRequestSchema,
  GetModelRequestSchema,
  GetModelVersionRequestSchema,
  GetScorerRequestSchema,
  ListAliasHistoryRequestSchema,
  ListModelVersionsRequestSchema,
  ListModelsRequestSchema,
  ListScorersRequestSchema,
  PutScorerRequestSchema,
  SetAliasRequestSchema,
  UploadModelVersionRequestSchema,
  ValueType,
  WatchRequestSchema,
} from '@scoregate/contracts';
import { encoded, singleMessageInputs, streamInputs } from '../fuzz-input.js';
import {
  hostileDouble,
  hostileDuration,
  hostileInt32,
  hostileInt64,
  hostileString,
  maybe,
  nameFrom,
  repeated,
} from '../hostile-values.js';
import { repoRoot } from '../fuzz-stack.js';
import { FEATURE_REFS } from './common-values.js';

/** Models, aliases and scorers of the e2e catalogue, and names the registry has never seen. */
export const MODELS = ['truck-roll-gbt', 'truck-roll-logreg', 'fuzz-model'];
export const SCORERS = ['truck-roll-priority', 'fuzz-scorer', 'fuzz-scorer-2'];
const model = nameFrom(MODELS);
const alias = nameFrom(['champion', 'fallback', 'canary', 'challenger']);
const version = nameFrom(['1', '2', '3', '0', '01', '-1', '99999999999999999999']);
const pageSize = hostileInt32;
const pageToken = nameFrom(['', '', 'truck-roll-gbt', '1']);
const reason = nameFrom(['promoted by fuzzing', ' ']);
const selector = fc.oneof(
  version.map((value) => ({ case: 'version' as const, value })),
  alias.map((value) => ({ case: 'alias' as const, value })),
  fc.constant({ case: undefined }),
);

/** Mostly `realistic`, sometimes anything `hostile` makes. */
const mostly = <T>(realistic: fc.Arbitrary<T>, hostile: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 3, arbitrary: realistic }, { weight: 1, arbitrary: hostile });

/** A chain step: one of the catalogue's (which exist), or any model and alias. */
const chainStep = mostly(
  fc.constantFrom(
    { model: 'truck-roll-gbt', alias: 'champion' },
    { model: 'truck-roll-logreg', alias: 'champion' },
  ),
  fc.record({ model, alias }, { requiredKeys: [] }),
);

const scorer = fc.record(
  {
    name: nameFrom(SCORERS),
    description: hostileString,
    budget: maybe(hostileDuration),
    chain: repeated(chainStep, 2, { count: 33 }),
    defaultAnswer: maybe(fc.record({ score: hostileDouble, reason: hostileString })),
    scoreOutput: mostly(fc.constant('probabilities'), nameFrom(['label', 'nope'])),
    scoreIndex: mostly(fc.constantFrom(0, 1), fc.nat({ max: 2 ** 32 - 1 })),
    canary: fc.option(fc.record({ alias, share: hostileDouble }), { nil: undefined, freq: 2 }),
    shadow: fc.option(fc.record({ model, alias, share: hostileDouble }), {
      nil: undefined,
      freq: 2,
    }),
    entityType: mostly(fc.constant('customer'), nameFrom(['site'])),
  },
  { requiredKeys: [] },
);

/** A version's metadata shaped like the catalogue's models' (8 double inputs, FP32 [-1, 8]). */
const spec = fc.record(
  {
    contract: fc.record({
      inputs: repeated(
        fc.record(
          {
            ref: nameFrom(FEATURE_REFS),
            dtype: fc.constantFrom(ValueType.DOUBLE, ValueType.INT64, ValueType.UNSPECIFIED, 99),
            required: fc.boolean(),
          },
          { requiredKeys: [] },
        ),
        8,
        { count: 9 },
      ),
    }),
    input: maybe(
      fc.record({
        name: nameFrom(['features']),
        datatype: nameFrom(['FP32', 'FP64']),
        shape: fc.constantFrom([-1n, 8n], [-1n], [1n, 8n]).map((shape) => [...shape]),
      }),
    ),
    outputs: repeated(
      fc.record({
        name: nameFrom(['probabilities', 'label']),
        datatype: nameFrom(['FP32', 'INT64']),
      }),
      2,
    ),
    framework: nameFrom(['onnx', 'sklearn']),
    metrics: fc.dictionary(nameFrom(['auc']), hostileDouble, { maxKeys: 2 }),
  },
  { requiredKeys: [] },
);

/** A real model (the fixture logistic regression) and the spec that matches it. */
const fixtureModel = readFileSync(
  join(repoRoot, 'tools/models/fixtures/truck-roll-logreg/1/model.onnx'),
);
const FIXTURE_COLUMNS = ['tickets_30d', 'calls_7d', 'modem_age_months', 'plan_tier'];
const fixtureSpec = {
  contract: {
    inputs: FIXTURE_COLUMNS.map((name) => ({
      ref: `customer_stats:${name}`,
      dtype: ValueType.DOUBLE,
      required: true,
    })),
  },
  input: { name: 'features', datatype: 'FP32', shape: [-1n, 4n] },
  outputs: [
    { name: 'label', datatype: 'INT64', shape: [-1n] },
    { name: 'probabilities', datatype: 'FP32', shape: [-1n, 2n] },
  ],
  framework: 'onnx',
};

/** The artifact's slices: the fixture model (in one or more chunks), or random bytes. */
const artifactChunks: fc.Arbitrary<Uint8Array[]> = fc.oneof<fc.Arbitrary<Uint8Array[]>[]>(
  repeated(fc.uint8Array({ maxLength: 1024 }), 2),
  fc.integer({ min: 1, max: 4 }).map((parts) => {
    const size = Math.ceil(fixtureModel.length / parts);
    return Array.from({ length: parts }, (_, i) => fixtureModel.subarray(i * size, (i + 1) * size));
  }),
);

/** An upload: the header (its sha256 and size right most of the time), then the chunks. */
const upload = fc
  .record({
    model,
    spec: fc.oneof(fc.constant(fixtureSpec), maybe(spec)),
    chunks: artifactChunks,
    rightDigest: fc.boolean(),
    size: fc.option(hostileInt64, { nil: undefined, freq: 4 }),
    registeredBy: hostileString,
  })
  .map(({ chunks, rightDigest, size, ...header }) => {
    const artifact = Buffer.concat(chunks);
    const sha256 = rightDigest
      ? createHash('sha256').update(artifact).digest('hex')
      : 'ab'.repeat(32);
    const first = create(UploadModelVersionRequestSchema, {
      content: {
        case: 'header',
        value: { ...header, sha256, sizeBytes: size ?? BigInt(artifact.length) },
      },
    });
    return [
      toBinary(UploadModelVersionRequestSchema, first),
      ...chunks.map((value) =>
        toBinary(
          UploadModelVersionRequestSchema,
          create(UploadModelVersionRequestSchema, { content: { case: 'chunk', value } }),
        ),
      ),
    ];
  });

/** Valid-shaped and hostile requests of every RegistryService RPC, by method name. */
export const registryInputs = {
  UploadModelVersion: streamInputs(
    upload,
    encoded(
      UploadModelVersionRequestSchema,
      fc.constant({ content: { case: 'chunk' as const, value: new Uint8Array(4) } }),
    ),
  ),
  GetModel: singleMessageInputs(
    GetModelRequestSchema,
    fc.record({ name: model }, { requiredKeys: [] }),
  ),
  ListModels: singleMessageInputs(
    ListModelsRequestSchema,
    fc.record({ pageSize, pageToken }, { requiredKeys: [] }),
  ),
  GetModelVersion: singleMessageInputs(
    GetModelVersionRequestSchema,
    fc.record({ model, selector }, { requiredKeys: [] }),
  ),
  ListModelVersions: singleMessageInputs(
    ListModelVersionsRequestSchema,
    fc.record({ model, pageSize, pageToken }, { requiredKeys: [] }),
  ),
  SetAlias: singleMessageInputs(
    SetAliasRequestSchema,
    fc.record(
      { model, alias, version, reason, expectedVersion: maybe(version), movedBy: hostileString },
      { requiredKeys: [] },
    ),
  ),
  DeleteAlias: singleMessageInputs(
    DeleteAliasRequestSchema,
    fc.record(
      { model, alias, reason, expectedVersion: maybe(version), deletedBy: hostileString },
      { requiredKeys: [] },
    ),
  ),
  ListAliasHistory: singleMessageInputs(
    ListAliasHistoryRequestSchema,
    fc.record({ model, alias, pageSize, pageToken }, { requiredKeys: [] }),
  ),
  PutScorer: singleMessageInputs(PutScorerRequestSchema, fc.record({ scorer: maybe(scorer) })),
  GetScorer: singleMessageInputs(
    GetScorerRequestSchema,
    fc.record({ name: nameFrom(SCORERS) }, { requiredKeys: [] }),
  ),
  ListScorers: singleMessageInputs(
    ListScorersRequestSchema,
    fc.record({ pageSize, pageToken }, { requiredKeys: [] }),
  ),
  DeleteScorer: singleMessageInputs(
    DeleteScorerRequestSchema,
    fc.record({ name: nameFrom(SCORERS) }, { requiredKeys: [] }),
  ),
  Watch: singleMessageInputs(
    WatchRequestSchema,
    fc.record(
      { fromRevision: fc.oneof(fc.bigInt({ min: 0n, max: 40n }), hostileInt64) },
      { requiredKeys: [] },
    ),
  ),
  DownloadModelVersion: singleMessageInputs(
    DownloadModelVersionRequestSchema,
    fc.record({ model, selector }, { requiredKeys: [] }),
  ),
};

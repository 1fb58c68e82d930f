import { createHash } from 'node:crypto';
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

const scorer = fc.record(
  {
    name: nameFrom(SCORERS),
    description: hostileString,
    budget: maybe(hostileDuration),
    chain: repeated(fc.record({ model, alias }, { requiredKeys: [] }), 2, { count: 33 }),
    defaultAnswer: maybe(fc.record({ score: hostileDouble, reason: hostileString })),
    scoreOutput: nameFrom(['probabilities', 'label', 'nope']),
    scoreIndex: fc.oneof(fc.constantFrom(0, 1, 2), fc.nat({ max: 2 ** 32 - 1 })),
    canary: maybe(fc.record({ alias, share: hostileDouble })),
    shadow: maybe(fc.record({ model, alias, share: hostileDouble })),
    entityType: nameFrom(['customer', 'site']),
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

/** An upload: the header (its sha256 and size right most of the time), then the chunks. */
const upload = fc
  .record({
    model,
    spec: maybe(spec),
    chunks: repeated(fc.uint8Array({ maxLength: 1024 }), 2),
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

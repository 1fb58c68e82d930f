import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clone, create } from '@bufbuild/protobuf';
import { durationFromMs } from '@bufbuild/protobuf/wkt';
import {
  ModelVersionSpecSchema,
  ScorerSchema,
  type ModelVersionSpec,
  type Scorer,
  type UploadModelVersionRequest,
  type WatchResponse,
} from '@scoregate/contracts';
import { Code, RpcError } from '@scoregate/rpc';
import { DEFAULT_MANIFEST_FILE, loadCatalogue } from '../catalogue.js';
import {
  removeDir,
  sha256Of,
  startRegistry,
  uploadMessages,
  withExternalData,
  withMetadata,
  type RegistryUnderTest,
  type TestDatabase,
} from './registry-harness.js';

const fixtures = path.dirname(DEFAULT_MANIFEST_FILE);

export async function rpcError(call: Promise<unknown>): Promise<RpcError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RpcError);
  return error as RpcError;
}

export const iterate = <T>(stream: AsyncIterable<T>): AsyncIterator<T> =>
  stream[Symbol.asyncIterator]();

/** Reads a stream until `until` says stop (or it ends), within a time bound. */
export async function collect(
  stream: AsyncIterator<WatchResponse>,
  until: (received: WatchResponse[]) => boolean,
  timeoutMs = 10_000,
): Promise<WatchResponse[]> {
  const received: WatchResponse[] = [];
  const deadline = Date.now() + timeoutMs;
  while (!until(received)) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`timed out after ${received.length} message(s)`);
    const next = await Promise.race([
      stream.next(),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('timed out waiting')), left),
      ),
    ]);
    if (next.done) break;
    received.push(next.value);
  }
  return received;
}

const describeChange = (r: WatchResponse): string => {
  const c = r.change;
  switch (c.case) {
    case 'versionRegistered':
      return `version ${c.value.model}@${c.value.version}`;
    case 'aliasMoved':
      return `alias ${c.value.model}/${c.value.alias} ${c.value.fromVersion || '-'}→${c.value.toVersion}`;
    case 'aliasDeleted':
      return `alias-deleted ${c.value.model}/${c.value.alias}`;
    case 'scorerPut':
      return `scorer ${c.value.name}`;
    case 'scorerDeleted':
      return `scorer-deleted ${c.value}`;
    case 'snapshotComplete':
      return 'snapshot-complete';
    default:
      return 'none';
  }
};

/** The registry's behaviour through its gRPC API, the same on every database. */
export function describeRegistryBehaviour(makeDb: () => TestDatabase): void {
  const db = makeDb();
  let registry: RegistryUnderTest;
  let gbt: Uint8Array;
  let logreg: Uint8Array;
  let mismatch: Uint8Array;
  let gbt2: Uint8Array;
  let spec: ModelVersionSpec;

  const upload = (
    model: string,
    bytes: Uint8Array,
    overrides: Parameters<typeof uploadMessages>[3] = {},
  ) =>
    registry.client.uploadModelVersion(uploadMessages(model, spec, bytes, overrides), {
      timeoutMs: 20_000,
    });

  /** The refused upload left nothing: no model, no artifact file, no staging file. */
  async function expectNothingRegistered(model: string, filesBefore: string[]) {
    await registry.idle();
    const error = await rpcError(registry.client.getModel({ name: model }));
    expect(error.code).toBe(Code.NOT_FOUND);
    expect(await registry.files()).toEqual(filesBefore);
  }

  beforeAll(async () => {
    [gbt, logreg, mismatch] = await Promise.all(
      ['truck-roll-gbt/1/model.onnx', 'truck-roll-logreg/1/model.onnx', 'mismatch/model.onnx'].map(
        async (f) => new Uint8Array(await readFile(path.join(fixtures, f))),
      ),
    );
    gbt2 = withMetadata(gbt, 'version', '2');
    const catalogue = await loadCatalogue();
    spec = clone(
      ModelVersionSpecSchema,
      (await catalogue.getVersion('truck-roll-gbt', '1'))!.spec!,
    );
    registry = await startRegistry({ db, maxUploadBytes: 64 * 1024 });
  });

  afterAll(async () => {
    await registry?.stop();
    await db.dispose();
    if (registry) await removeDir(registry.dataDir);
  });

  describe(`${db.name}: the demo catalogue imported into an empty registry`, () => {
    it('serves truck-roll-priority and its chain, resolvable through the champion aliases', async () => {
      const { scorer } = await registry.client.getScorer({ name: 'truck-roll-priority' });
      expect(scorer?.chain.map((s) => `${s.model}@${s.alias}`)).toEqual([
        'truck-roll-gbt@champion',
        'truck-roll-logreg@champion',
      ]);
      const { version } = await registry.client.getModelVersion({
        model: 'truck-roll-gbt',
        selector: { case: 'alias', value: 'champion' },
      });
      expect(version?.version).toBe('1');
      expect(version?.sha256).toBe(sha256Of(gbt));
      expect(version?.registeredBy).toBe('catalogue');
      expect(version?.spec?.contract?.inputs).toHaveLength(8);
      expect(await registry.files()).toEqual(
        [sha256Of(gbt), sha256Of(logreg)].map((h) => `artifacts/sha256/${h}`).sort(),
      );
    });

    it('lists models by name and answers NOT_FOUND naming an unknown model, version or alias', async () => {
      const { models } = await registry.client.listModels({});
      expect(models.map((m) => m.name)).toEqual(['truck-roll-gbt', 'truck-roll-logreg']);
      expect(models[0]?.aliases).toEqual({ champion: '1' });
      const unknown = await rpcError(registry.client.getModel({ name: 'no-such-model' }));
      expect([unknown.code, unknown.message]).toEqual([
        Code.NOT_FOUND,
        'model "no-such-model" not found',
      ]);
      const version = await rpcError(
        registry.client.getModelVersion({
          model: 'truck-roll-gbt',
          selector: { case: 'version', value: '9' },
        }),
      );
      expect(version.message).toBe('model "truck-roll-gbt" has no version "9"');
      const alias = await rpcError(
        registry.client.getModelVersion({
          model: 'truck-roll-gbt',
          selector: { case: 'alias', value: 'nope' },
        }),
      );
      expect(alias.message).toBe('model "truck-roll-gbt" has no alias "nope"');
      const bad = await rpcError(
        registry.client.getModelVersion({
          model: '../etc',
          selector: { case: 'version', value: '1' },
        }),
      );
      expect([bad.code, bad.violations[0]?.field]).toEqual([Code.INVALID_ARGUMENT, 'model']);
    });
  });

  describe(`${db.name}: UploadModelVersion`, () => {
    it('registers a new model at version 1, then the same bytes again as already_existed', async () => {
      const first = await upload('uploaded', gbt);
      expect(first.alreadyExisted).toBe(false);
      expect(first.version?.version).toBe('1');
      expect(first.version?.sha256).toBe(sha256Of(gbt));
      expect(first.version?.registeredBy).toBe('test@registry');
      expect(first.revision).toBe(await registry.store.revision());
      const again = await upload('uploaded', gbt);
      expect(again.alreadyExisted).toBe(true);
      expect(again.version?.version).toBe('1');
      const second = await upload('uploaded', gbt2);
      expect(second.version?.version).toBe('2');
      const { versions } = await registry.client.listModelVersions({ model: 'uploaded' });
      expect(versions.map((v) => v.version)).toEqual(['2', '1']);
      const { model } = await registry.client.getModel({ name: 'uploaded' });
      expect(model?.latestVersion).toBe('2');
    });

    it('refuses a wrong digest with INVALID_ARGUMENT naming both digests, leaving no row and no file', async () => {
      const before = await registry.files();
      const bytes = withMetadata(gbt, 'case', 'wrong-digest');
      const error = await rpcError(upload('wrong-digest', bytes, { sha256: sha256Of(gbt) }));
      expect(error.code).toBe(Code.INVALID_ARGUMENT);
      expect(error.message).toBe(
        `header.sha256: the received ${bytes.length} bytes have sha256 ${sha256Of(bytes)}, not the declared ${sha256Of(gbt)}; nothing was registered`,
      );
      await expectNothingRegistered('wrong-digest', before);
    });

    it('drops an upload the client cancels midway: CANCELLED, no row, no file', async () => {
      const before = await registry.files();
      const bytes = withMetadata(gbt, 'case', 'truncated');
      const messages = uploadMessages('truncated', spec, bytes, { chunkBytes: 256 });
      const cancel = new AbortController();
      let sent = 0;
      async function* slowThenCancel(): AsyncGenerator<UploadModelVersionRequest> {
        for (const message of messages.slice(0, 3)) {
          sent++;
          yield message;
        }
        await new Promise((r) => setTimeout(r, 200)); // the server holds a partial staging file now
        cancel.abort();
        await new Promise((r) => setTimeout(r, 10_000)); // the client never finishes
      }
      const error = await rpcError(
        registry.client.uploadModelVersion(slowThenCancel(), {
          signal: cancel.signal,
          timeoutMs: 20_000,
        }),
      );
      expect(sent).toBe(3);
      expect(error.code).toBe(Code.CANCELLED);
      await expectNothingRegistered('truncated', before);
    });

    it('refuses an upload that ends before size_bytes with INVALID_ARGUMENT saying how much arrived', async () => {
      const before = await registry.files();
      const bytes = withMetadata(gbt, 'case', 'short');
      const messages = uploadMessages('short', spec, bytes, { chunkBytes: 256 }).slice(0, 3);
      const error = await rpcError(registry.client.uploadModelVersion(messages));
      expect(error.code).toBe(Code.INVALID_ARGUMENT);
      expect(error.message).toBe(
        `chunk: the upload ended after 512 of the ${bytes.length} bytes declared in header.size_bytes; nothing was registered`,
      );
      await expectNothingRegistered('short', before);
    });

    it('refuses an artifact over the upload limit with RESOURCE_EXHAUSTED, declared or actual', async () => {
      const before = await registry.files();
      const big = withMetadata(gbt, 'padding', 'x'.repeat(70 * 1024));
      const declared = await rpcError(upload('oversize', big));
      expect(declared.code).toBe(Code.RESOURCE_EXHAUSTED);
      expect(declared.message).toBe(
        `header.size_bytes: ${big.length} bytes is over this registry's upload limit of 65536 bytes (REGISTRY_MAX_UPLOAD_BYTES)`,
      );
      // A header that understates the size is cut off at the declared size.
      const lying = await rpcError(upload('oversize', big, { sizeBytes: 1000n }));
      expect(lying.code).toBe(Code.INVALID_ARGUMENT);
      expect(lying.message).toBe(
        'chunk: the upload has more bytes than the 1000 declared in header.size_bytes; nothing was registered',
      );
      await expectNothingRegistered('oversize', before);
    });

    it('refuses an ONNX whose signature differs from the declared one, naming the tensor', async () => {
      const before = await registry.files();
      const error = await rpcError(upload('mismatched', mismatch));
      expect(error.code).toBe(Code.INVALID_ARGUMENT);
      expect(error.message).toBe(
        'header.spec: the ONNX model does not match the declared signature: input is declared "features" FP32 [-1, 8] but the model has "features" FP32 [-1, 3]',
      );
      await expectNothingRegistered('mismatched', before);
    });

    it('refuses an ONNX whose external data path leaves its folder, and one that does not load', async () => {
      const before = await registry.files();
      const escaping = withExternalData(gbt, '../../../etc/passwd');
      const error = await rpcError(upload('escaping', escaping));
      expect(error.code).toBe(Code.INVALID_ARGUMENT);
      expect(error.message).toBe(
        `chunk: the ONNX model refers to external data at "../../../etc/passwd", which leaves the model's folder (..); external data must stay inside the model's own folder`,
      );
      const absolute = await rpcError(upload('escaping', withExternalData(gbt, '/etc/passwd')));
      expect(absolute.message).toContain('"/etc/passwd", which is an absolute path');
      const broken = await readFile(path.join(fixtures, 'broken/model.onnx'));
      const unloadable = await rpcError(upload('escaping', new Uint8Array(broken)));
      expect(unloadable.code).toBe(Code.INVALID_ARGUMENT);
      expect(unloadable.message).toMatch(
        /^chunk: (the artifact does not load in onnxruntime|the artifact is not an ONNX model)/,
      );
      await expectNothingRegistered('escaping', before);
    });

    it('refuses a bad header before reading any bytes, naming the field', async () => {
      const badName = await rpcError(upload('../escape', gbt));
      expect([badName.code, badName.violations[0]?.field]).toEqual([
        Code.INVALID_ARGUMENT,
        'header.model',
      ]);
      const noHeader = await rpcError(
        registry.client.uploadModelVersion([
          { content: { case: 'chunk', value: gbt.subarray(0, 10) } },
        ]),
      );
      expect(noHeader.message).toBe('header: the first message of an upload must be the header');
      const wrongShape = clone(ModelVersionSpecSchema, spec);
      wrongShape.input!.shape = [-1n, 7n];
      const shape = await rpcError(
        registry.client.uploadModelVersion(uploadMessages('bad-spec', wrongShape, gbt)),
      );
      expect(shape.message).toBe(
        'header.spec.input.shape: must be [-1, 8] (one column per contract input; got [-1, 7])',
      );
    });

    it.each([
      [
        'a NaN',
        { case: 'doubleValue', value: Number.NaN },
        'header.spec.contract.inputs[2].default_value.double_value: must be finite, got NaN',
      ],
      [
        'an infinity',
        { case: 'doubleValue', value: -Infinity },
        'header.spec.contract.inputs[2].default_value.double_value: must be finite, got -Infinity',
      ],
      [
        'a value of another type',
        { case: 'stringValue', value: 'high' },
        "header.spec.contract.inputs[2].default_value: must be a double (the input's dtype), got string",
      ],
    ] as const)('refuses %s as a default value, naming the input', async (_case, kind, message) => {
      const before = await registry.files();
      const bad = clone(ModelVersionSpecSchema, spec);
      bad.contract!.inputs[2]!.required = false;
      bad.contract!.inputs[2]!.defaultValue = {
        $typeName: 'scoregate.common.v1.FeatureValue',
        kind,
      };
      const error = await rpcError(
        registry.client.uploadModelVersion(uploadMessages('bad-default', bad, gbt)),
      );
      expect([error.code, error.message]).toEqual([Code.INVALID_ARGUMENT, message]);
      await expectNothingRegistered('bad-default', before);
    });

    it('keeps accepts_non_finite on a floating-point input and refuses it elsewhere, naming the field', async () => {
      const onOutput = clone(ModelVersionSpecSchema, spec);
      onOutput.outputs[1]!.acceptsNonFinite = true;
      const output = await rpcError(
        registry.client.uploadModelVersion(uploadMessages('non-finite', onOutput, gbt)),
      );
      expect([output.code, output.message]).toEqual([
        Code.INVALID_ARGUMENT,
        'header.spec.outputs[1].accepts_non_finite: applies to the input tensor only',
      ]);
      const lenient = clone(ModelVersionSpecSchema, spec);
      lenient.input!.acceptsNonFinite = true;
      const uploaded = await registry.client.uploadModelVersion(
        uploadMessages('non-finite', lenient, withMetadata(gbt, 'lenient', '1')),
        { timeoutMs: 20_000 },
      );
      const { version } = await registry.client.getModelVersion({
        model: 'non-finite',
        selector: { case: 'version', value: uploaded.version!.version },
      });
      expect(version?.spec?.input?.acceptsNonFinite).toBe(true);
    });

    it('numbers concurrent uploads to one model 1..n without a gap or a duplicate', async () => {
      const n = 8;
      const results = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          upload('concurrent', withMetadata(gbt, 'copy', String(i))),
        ),
      );
      expect(results.map((r) => Number(r.version?.version)).sort((a, b) => a - b)).toEqual(
        Array.from({ length: n }, (_, i) => i + 1),
      );
      expect(new Set(results.map((r) => r.revision)).size).toBe(n);
    });
  });

  describe(`${db.name}: aliases`, () => {
    it('moves an alias, records each move with from, to, who and why, and refuses a stale compare-and-set', async () => {
      const set = await registry.client.setAlias({
        model: 'uploaded',
        alias: 'champion',
        version: '1',
        reason: 'first champion',
        movedBy: 'alice',
        expectedVersion: '',
      });
      expect(set.moved).toMatchObject({ fromVersion: '', toVersion: '1', movedBy: 'alice' });
      const moved = await registry.client.setAlias({
        model: 'uploaded',
        alias: 'champion',
        version: '2',
        reason: 'better auc',
        movedBy: 'bob',
        expectedVersion: '1',
      });
      expect(moved.moved).toMatchObject({ fromVersion: '1', toVersion: '2' });
      expect(moved.revision).toBe(set.revision + 1n);
      const stale = await rpcError(
        registry.client.setAlias({
          model: 'uploaded',
          alias: 'champion',
          version: '1',
          reason: 'x',
          expectedVersion: '1',
        }),
      );
      expect(stale.code).toBe(Code.FAILED_PRECONDITION);
      expect(stale.message).toBe(
        'alias "champion" of model "uploaded" points at version 2, not at version 1 as expected_version requires; nothing changed',
      );
      const same = await registry.client.setAlias({
        model: 'uploaded',
        alias: 'champion',
        version: '2',
        reason: 'again',
      });
      expect(same.moved).toMatchObject({ fromVersion: '2', toVersion: '2' });
      expect(same.revision).toBe(moved.revision);
      const { moves } = await registry.client.listAliasHistory({
        model: 'uploaded',
        alias: 'champion',
      });
      expect(moves.map((m) => [m.fromVersion, m.toVersion, m.movedBy, m.reason])).toEqual([
        ['1', '2', 'bob', 'better auc'],
        ['', '1', 'alice', 'first champion'],
      ]);
      const missing = await rpcError(
        registry.client.setAlias({
          model: 'uploaded',
          alias: 'champion',
          version: '99',
          reason: 'x',
        }),
      );
      expect([missing.code, missing.message]).toEqual([
        Code.NOT_FOUND,
        'model "uploaded" has no version "99"',
      ]);
      const noReason = await rpcError(
        registry.client.setAlias({
          model: 'uploaded',
          alias: 'champion',
          version: '1',
          reason: '',
        }),
      );
      expect(noReason.violations[0]?.field).toBe('reason');
    });

    it('loses no move between concurrent writers: the history is one unbroken chain', async () => {
      const writers = 12;
      const results = await Promise.all(
        Array.from({ length: writers }, (_, i) =>
          registry.client.setAlias({
            model: 'concurrent',
            alias: 'race',
            version: String((i % 8) + 1),
            reason: `writer ${i}`,
            movedBy: `writer-${i}`,
          }),
        ),
      );
      const { moves } = await registry.client.listAliasHistory({
        model: 'concurrent',
        alias: 'race',
      });
      const chain = [...moves].reverse();
      const changed = results.filter((r) => r.moved!.fromVersion !== r.moved!.toVersion).length;
      expect(chain).toHaveLength(changed);
      expect(chain[0]?.fromVersion).toBe('');
      for (let i = 1; i < chain.length; i++)
        expect(chain[i]!.fromVersion).toBe(chain[i - 1]!.toVersion);
      const { version } = await registry.client.getModelVersion({
        model: 'concurrent',
        selector: { case: 'alias', value: 'race' },
      });
      expect(version?.version).toBe(chain.at(-1)?.toVersion);

      // Compare-and-set from the same expected version: exactly one writer wins.
      const current = version!.version;
      const cas = await Promise.allSettled(
        ['1', '2', '3', '4', '5', '6'].map((target) =>
          registry.client.setAlias({
            model: 'concurrent',
            alias: 'race',
            version: target === current ? '7' : target,
            reason: 'cas',
            expectedVersion: current,
          }),
        ),
      );
      expect(cas.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of cas)
        if (r.status === 'rejected')
          expect(RpcError.from(r.reason).code).toBe(Code.FAILED_PRECONDITION);
    });

    it('refuses to delete an alias a scorer uses; deletes an unused one and records it', async () => {
      const used = await rpcError(
        registry.client.deleteAlias({
          model: 'truck-roll-gbt',
          alias: 'champion',
          reason: 'cleanup',
        }),
      );
      expect(used.code).toBe(Code.FAILED_PRECONDITION);
      expect(used.message).toBe(
        'alias "champion" of model "truck-roll-gbt" is used by scorer(s) "truck-roll-priority"; change or delete them first',
      );
      await registry.client.setAlias({
        model: 'uploaded',
        alias: 'temp',
        version: '1',
        reason: 'try',
      });
      const { deleted } = await registry.client.deleteAlias({
        model: 'uploaded',
        alias: 'temp',
        reason: 'done',
        deletedBy: 'carol',
      });
      expect(deleted).toMatchObject({ version: '1', deletedBy: 'carol' });
      const { moves } = await registry.client.listAliasHistory({
        model: 'uploaded',
        alias: 'temp',
      });
      expect(moves.map((m) => [m.fromVersion, m.toVersion])).toEqual([
        ['1', ''],
        ['', '1'],
      ]);
      const gone = await rpcError(
        registry.client.deleteAlias({ model: 'uploaded', alias: 'temp', reason: 'x' }),
      );
      expect(gone.code).toBe(Code.NOT_FOUND);
    });
  });

  describe(`${db.name}: scorers`, () => {
    const scorer = (change: (s: Scorer) => void = () => {}) => {
      const s = create(ScorerSchema, {
        name: 'uploaded-route',
        entityType: 'customer',
        budget: durationFromMs(40),
        chain: [{ model: 'uploaded', alias: 'champion' }],
        defaultAnswer: { score: 0.5, reason: 'prior' },
        scoreOutput: 'probabilities',
        scoreIndex: 1,
      });
      change(s);
      return s;
    };

    it('puts, gets, lists and deletes a scorer whose references exist', async () => {
      const put = await registry.client.putScorer({ scorer: scorer() });
      expect(put.scorer?.updatedAt).toBeDefined();
      const { scorer: got } = await registry.client.getScorer({ name: 'uploaded-route' });
      expect(got?.chain).toHaveLength(1);
      const { scorers } = await registry.client.listScorers({});
      expect(scorers.map((s) => s.name)).toEqual(['truck-roll-priority', 'uploaded-route']);
      const { revision } = await registry.client.deleteScorer({ name: 'uploaded-route' });
      expect(revision).toBe(put.revision + 1n);
      const gone = await rpcError(registry.client.getScorer({ name: 'uploaded-route' }));
      expect(gone.code).toBe(Code.NOT_FOUND);
    });

    it('refuses a scorer whose models need features its entity type does not have, naming them', async () => {
      const otherEntity = await rpcError(
        registry.client.putScorer({ scorer: scorer((s) => (s.entityType = 'site')) }),
      );
      expect(otherEntity.code).toBe(Code.FAILED_PRECONDITION);
      expect(otherEntity.message).toBe(
        'scorer.chain[0]: uploaded version 2 needs customer_stats:signal_snr_db, but view "customer_stats" is keyed on customer, not on the scorer\'s entity type site',
      );
      const odd = clone(ModelVersionSpecSchema, spec);
      odd.contract!.inputs[3]!.ref = 'customer_stats:no_such_feature';
      await registry.client.uploadModelVersion(
        uploadMessages('odd-contract', odd, withMetadata(gbt, 'contract', 'odd')),
      );
      await registry.client.setAlias({
        model: 'odd-contract',
        alias: 'champion',
        version: '1',
        reason: 'test',
      });
      const missing = await rpcError(
        registry.client.putScorer({
          scorer: scorer((s) => (s.chain[0]!.model = 'odd-contract')),
        }),
      );
      expect(missing.message).toBe(
        'scorer.chain[0]: odd-contract version 1 needs customer_stats:no_such_feature, but view "customer_stats" has no feature "no_such_feature"',
      );
    });

    it('refuses a scorer whose alias, score output or canary does not exist, naming the field', async () => {
      const alias = await rpcError(
        registry.client.putScorer({ scorer: scorer((s) => (s.chain[0]!.alias = 'nope')) }),
      );
      expect(alias.code).toBe(Code.FAILED_PRECONDITION);
      expect(alias.message).toMatch(
        /^scorer\.chain\[0\]\.alias: model "uploaded" has no alias "nope" \(aliases: champion/,
      );
      const output = await rpcError(
        registry.client.putScorer({ scorer: scorer((s) => (s.scoreOutput = 'margin')) }),
      );
      expect(output.message).toBe(
        'scorer.score_output: "margin" is not an output of uploaded version 2 (chain[0]; outputs: label, probabilities)',
      );
      const canary = await rpcError(
        registry.client.putScorer({
          scorer: scorer(
            (s) =>
              (s.canary = {
                $typeName: 'scoregate.registry.v1.CanaryConfig',
                alias: 'canary',
                share: 0.1,
              }),
          ),
        }),
      );
      expect(canary.message).toMatch(
        /^scorer\.canary\.alias: model "uploaded" has no alias "canary"/,
      );
      const budget = await rpcError(
        registry.client.putScorer({ scorer: scorer((s) => (s.budget = durationFromMs(0))) }),
      );
      expect([budget.code, budget.violations[0]?.field]).toEqual([
        Code.INVALID_ARGUMENT,
        'scorer.budget',
      ]);
      const missing = await rpcError(registry.client.getScorer({ name: 'uploaded-route' }));
      expect(missing.code).toBe(Code.NOT_FOUND);
    });
  });

  describe(`${db.name}: Watch`, () => {
    it('from 0: a snapshot of the current state at one revision, then live changes to every watcher', async () => {
      const revision = await registry.store.revision();
      const watchers = [new AbortController(), new AbortController()];
      const streams = watchers.map((c) =>
        iterate(registry.client.watch({ fromRevision: 0n }, { signal: c.signal })),
      );
      try {
        for (const stream of streams) {
          const snapshot = await collect(
            stream,
            (r) => r.at(-1)?.change.case === 'snapshotComplete',
          );
          expect(snapshot.every((r) => r.snapshot && r.revision === revision)).toBe(true);
          const items = snapshot.map(describeChange);
          expect(items).toContain('version truck-roll-gbt@1');
          expect(items).toContain('alias uploaded/champion -→2');
          expect(items).toContain('scorer truck-roll-priority');
        }
        const moved = await registry.client.setAlias({
          model: 'uploaded',
          alias: 'champion',
          version: '1',
          reason: 'rollback',
        });
        for (const stream of streams) {
          const [live] = await collect(stream, (r) => r.length === 1);
          expect(live?.snapshot).toBe(false);
          expect(live?.revision).toBe(moved.revision);
          expect(describeChange(live!)).toBe('alias uploaded/champion 2→1');
        }
      } finally {
        watchers.forEach((c) => c.abort());
      }
    });

    it('from N: every change after N, in order, nothing twice, then live', async () => {
      const start = await registry.store.revision();
      const a = await registry.client.setAlias({
        model: 'uploaded',
        alias: 'champion',
        version: '2',
        reason: 'r1',
      });
      const b = await registry.client.setAlias({
        model: 'uploaded',
        alias: 'fallback',
        version: '1',
        reason: 'r2',
      });
      const cancel = new AbortController();
      const stream = iterate(
        registry.client.watch({ fromRevision: start }, { signal: cancel.signal }),
      );
      try {
        const missed = await collect(stream, (r) => r.length === 2);
        expect(missed.map((r) => [r.revision, r.snapshot, describeChange(r)])).toEqual([
          [a.revision, false, 'alias uploaded/champion 1→2'],
          [b.revision, false, 'alias uploaded/fallback -→1'],
        ]);
        const c = await registry.client.deleteAlias({
          model: 'uploaded',
          alias: 'fallback',
          reason: 'r3',
        });
        const [live] = await collect(stream, (r) => r.length === 1);
        expect([live?.revision, describeChange(live!)]).toEqual([
          c.revision,
          'alias-deleted uploaded/fallback',
        ]);
        const quiet = await Promise.race([
          stream.next().then(() => 'message'),
          new Promise((r) => setTimeout(() => r('quiet'), 400)),
        ]);
        expect(quiet).toBe('quiet');
      } finally {
        cancel.abort();
      }
      const negative = await rpcError(
        (async () => {
          for await (const _ of registry.client.watch({ fromRevision: -1n })) void _;
        })(),
      );
      expect(negative.violations[0]?.field).toBe('from_revision');
    });
  });

  describe(`${db.name}: DownloadModelVersion`, () => {
    it('streams the metadata, then chunks of at most 1 MiB that hash to the registered sha256', async () => {
      const kinds: string[] = [];
      const received: Uint8Array[] = [];
      for await (const message of registry.client.downloadModelVersion({
        model: 'uploaded',
        selector: { case: 'version', value: '2' },
      })) {
        kinds.push(message.content.case ?? 'none');
        if (message.content.case === 'chunk') received.push(message.content.value);
      }
      expect(kinds[0]).toBe('version');
      expect(kinds.slice(1).every((k) => k === 'chunk')).toBe(true);
      expect(sha256Of(Uint8Array.from(received.flatMap((c) => [...c])))).toBe(sha256Of(gbt2));
      const missing = await rpcError(
        (async () => {
          for await (const _ of registry.client.downloadModelVersion({
            model: 'uploaded',
            selector: { case: 'version', value: '77' },
          }))
            void _;
        })(),
      );
      expect([missing.code, missing.message]).toEqual([
        Code.NOT_FOUND,
        'model "uploaded" has no version "77"',
      ]);
    });
  });

  describe(`${db.name}: DownloadModelVersion of a damaged artifact`, () => {
    it('answers DATA_LOSS naming the version when the stored bytes no longer match the digest', async () => {
      const { version } = await registry.client.getModelVersion({
        model: 'concurrent',
        selector: { case: 'version', value: '1' },
      });
      const file = registry.artifacts.pathOf(version!.sha256);
      const bytes = await readFile(file);
      bytes[bytes.length - 1] ^= 0xff;
      await writeFile(file, bytes);
      const error = await rpcError(
        (async () => {
          for await (const _ of registry.client.downloadModelVersion({
            model: 'concurrent',
            selector: { case: 'version', value: '1' },
          }))
            void _;
        })(),
      );
      expect(error.code).toBe(Code.DATA_LOSS);
      expect(error.message).toBe(
        `the artifact of concurrent version 1 changed since it was registered: read ${bytes.length} bytes with sha256 ${sha256Of(bytes)}, expected ${bytes.length} bytes with sha256 ${version!.sha256}`,
      );
    });
  });

  describe(`${db.name}: restart and retention`, () => {
    it('keeps everything committed across a restart on the same data, and removes what a crash left uncommitted', async () => {
      const before = await registry.client.listModels({});
      const revision = await registry.store.revision();
      const files = await registry.files();
      // What a crash leaves: an artifact placed by a transaction that never committed, and an
      // upload's staging folder.
      const orphan = sha256Of(new TextEncoder().encode('never committed'));
      await writeFile(path.join(registry.dataDir, 'artifacts/sha256', orphan), 'x');
      await mkdir(path.join(registry.dataDir, 'staging/crashed-upload'));
      await writeFile(path.join(registry.dataDir, 'staging/crashed-upload/model.onnx'), 'partial');
      await registry.stop();
      registry = await startRegistry({
        db,
        dataDir: registry.dataDir,
        maxUploadBytes: 64 * 1024,
        changeLogRetention: 3,
      });
      expect(await registry.store.revision()).toBe(revision);
      expect(await registry.files()).toEqual(files);
      const after = await registry.client.listModels({});
      expect(after.models.map((m) => [m.name, m.aliases, m.latestVersion])).toEqual(
        before.models.map((m) => [m.name, m.aliases, m.latestVersion]),
      );
    });

    it('sends a snapshot to a watcher whose revision is older than the retained change log', async () => {
      for (let i = 0; i < 4; i++)
        await registry.client.setAlias({
          model: 'uploaded',
          alias: 'champion',
          version: String((i % 2) + 1),
          reason: `flip ${i}`,
        });
      const cancel = new AbortController();
      const stream = iterate(
        registry.client.watch({ fromRevision: 1n }, { signal: cancel.signal }),
      );
      try {
        const received = await collect(stream, (r) => r.at(-1)?.change.case === 'snapshotComplete');
        expect(received.every((r) => r.snapshot)).toBe(true);
        expect(received.at(-1)?.revision).toBe(await registry.store.revision());
      } finally {
        cancel.abort();
      }
    });

    it('pages lists with next_page_token', async () => {
      const first = await registry.client.listModelVersions({ model: 'concurrent', pageSize: 3 });
      expect(first.versions.map((v) => v.version)).toEqual(['8', '7', '6']);
      const second = await registry.client.listModelVersions({
        model: 'concurrent',
        pageSize: 3,
        pageToken: first.nextPageToken,
      });
      expect(second.versions.map((v) => v.version)).toEqual(['5', '4', '3']);
      const models = await registry.client.listModels({ pageSize: 2 });
      expect(models.nextPageToken).toBe(models.models[1]?.name);
    });

    it('ends an open Watch with UNAVAILABLE and the revision to resume from when the server drains', async () => {
      const stream = iterate(registry.client.watch({}));
      await collect(stream, (r) => r.at(-1)?.change.case === 'snapshotComplete');
      const revision = await registry.store.revision();
      const started = Date.now();
      const stopped = registry.server.shutdown({ drainDelayMs: 0, graceMs: 10_000 });
      const error = await rpcError(stream.next());
      expect(error.code).toBe(Code.UNAVAILABLE);
      expect(error.message).toBe(
        `registry-service is shutting down: watch again from revision ${revision}`,
      );
      await stopped;
      expect(Date.now() - started).toBeLessThan(3000);
    });
  });
}

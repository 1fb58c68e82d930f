import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { durationMs } from '@bufbuild/protobuf/wkt';
import { RegistryService, ValueType, type WatchResponse } from '@scoregate/contracts';
import {
  Code,
  RpcError,
  createRpcClient,
  createRpcServer,
  type RpcClient,
  type RpcServer,
} from '@scoregate/rpc';
import { DEFAULT_MANIFEST_FILE, loadCatalogue, type Catalogue } from './catalogue.js';
import { createRegistryHandlers } from './registry-handlers.js';

const silent = { info() {}, warn() {}, error() {} };
let catalogue: Catalogue;
let server: RpcServer;
let client: RpcClient<typeof RegistryService>;

interface ManifestModel {
  name: string;
  version: string;
  sha256: string;
  sizeBytes: number;
  features: { ref: string }[];
}
let manifest: { models: ManifestModel[] };

beforeAll(async () => {
  manifest = JSON.parse(await readFile(DEFAULT_MANIFEST_FILE, 'utf8')) as typeof manifest;
  catalogue = await loadCatalogue();
  server = createRpcServer({ name: 'registry-test', logger: silent });
  server.register(RegistryService, createRegistryHandlers(catalogue));
  const port = await server.listen('127.0.0.1:0');
  client = createRpcClient(RegistryService, { address: `127.0.0.1:${port}` });
});

afterAll(async () => {
  client?.close();
  await server?.shutdown({ drainDelayMs: 0, graceMs: 1000 });
});

async function rpcError(call: Promise<unknown>): Promise<RpcError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RpcError);
  return error as RpcError;
}

function manifestModel(name: string): ManifestModel {
  const model = manifest.models.find((m) => m.name === name);
  if (model === undefined) throw new Error(`fixture ${name} missing from the manifest`);
  return model;
}

describe('scorers', () => {
  it('GetScorer returns truck-roll-priority with its chain, budget and default answer', async () => {
    const { scorer } = await client.getScorer({ name: 'truck-roll-priority' });
    expect(scorer?.chain.map((s) => `${s.model}@${s.alias}`)).toEqual([
      'truck-roll-gbt@champion',
      'truck-roll-logreg@champion',
    ]);
    expect(scorer?.entityType).toBe('customer');
    expect(durationMs(scorer!.budget!)).toBe(50);
    expect(scorer?.defaultAnswer).toMatchObject({ score: 0.3, reason: 'base rate' });
    expect(scorer?.scoreOutput).toBe('probabilities');
    expect(scorer?.scoreIndex).toBe(1);
    expect(scorer?.updatedAt).toBeDefined();
  });

  it('ListScorers lists the catalogue scorers by name', async () => {
    const { scorers, nextPageToken } = await client.listScorers({});
    expect(scorers.map((s) => s.name)).toEqual(['truck-roll-priority']);
    expect(nextPageToken).toBe('');
  });

  it('GetScorer of an unknown scorer answers NOT_FOUND naming it', async () => {
    const error = await rpcError(client.getScorer({ name: 'no-such-scorer' }));
    expect(error.code).toBe(Code.NOT_FOUND);
    expect(error.message).toContain('"no-such-scorer"');
  });

  it('GetScorer with a malformed name answers INVALID_ARGUMENT naming the field', async () => {
    const error = await rpcError(client.getScorer({ name: 'Truck/Roll' }));
    expect(error.code).toBe(Code.INVALID_ARGUMENT);
    expect(error.violations[0]?.field).toBe('name');
  });
});

describe('models and versions', () => {
  it('GetModelVersion through the champion alias returns version 1 with the 8-feature contract in manifest order', async () => {
    const expected = manifestModel('truck-roll-gbt');
    const { version } = await client.getModelVersion({
      model: 'truck-roll-gbt',
      selector: { case: 'alias', value: 'champion' },
    });
    expect(version?.version).toBe('1');
    expect(version?.sha256).toBe(expected.sha256);
    expect(version?.sizeBytes).toBe(BigInt(expected.sizeBytes));
    const inputs = version?.spec?.contract?.inputs ?? [];
    expect(inputs.map((i) => i.ref)).toEqual(expected.features.map((f) => f.ref));
    expect(inputs).toHaveLength(8);
    expect(inputs.every((i) => i.dtype === ValueType.DOUBLE && i.required)).toBe(true);
    expect(version?.spec?.input).toMatchObject({
      name: 'features',
      datatype: 'FP32',
      shape: [-1n, 8n],
    });
    expect(version?.spec?.outputs.map((o) => o.name)).toEqual(['label', 'probabilities']);
    expect(version?.spec?.framework).toBe('onnx');
    expect(version?.spec?.opset).toBe('16');
    expect(version?.spec?.metrics['auc']).toBeCloseTo(0.8713);
    expect(version?.spec?.lineage?.codeRevision).toBe('tools/models/train.py');
    expect(version?.registeredBy).toBe('catalogue');
    expect(version?.registeredAt).toBeDefined();
  });

  it('GetModelVersion by version number returns the same version as through the alias', async () => {
    const { version } = await client.getModelVersion({
      model: 'truck-roll-logreg',
      selector: { case: 'version', value: '1' },
    });
    expect(version?.spec?.contract?.inputs.map((i) => i.ref)).toEqual(
      manifestModel('truck-roll-logreg').features.map((f) => f.ref),
    );
  });

  it('GetModelVersion answers NOT_FOUND naming the unknown model, version or alias', async () => {
    const model = await rpcError(
      client.getModelVersion({ model: 'no-such-model', selector: { case: 'version', value: '1' } }),
    );
    expect(model.code).toBe(Code.NOT_FOUND);
    expect(model.message).toContain('"no-such-model"');
    const version = await rpcError(
      client.getModelVersion({
        model: 'truck-roll-gbt',
        selector: { case: 'version', value: '9' },
      }),
    );
    expect(version.code).toBe(Code.NOT_FOUND);
    expect(version.message).toBe('model "truck-roll-gbt" has no version "9"');
    const alias = await rpcError(
      client.getModelVersion({
        model: 'truck-roll-gbt',
        selector: { case: 'alias', value: 'canary' },
      }),
    );
    expect(alias.code).toBe(Code.NOT_FOUND);
    expect(alias.message).toBe('model "truck-roll-gbt" has no alias "canary"');
  });

  it('GetModelVersion answers INVALID_ARGUMENT when the selector is missing or a name is malformed', async () => {
    const missing = await rpcError(client.getModelVersion({ model: 'truck-roll-gbt' }));
    expect(missing.code).toBe(Code.INVALID_ARGUMENT);
    expect(missing.violations[0]?.field).toBe('selector');
    const badModel = await rpcError(
      client.getModelVersion({ model: '../etc', selector: { case: 'version', value: '1' } }),
    );
    expect(badModel.violations[0]?.field).toBe('model');
    const badVersion = await rpcError(
      client.getModelVersion({
        model: 'truck-roll-gbt',
        selector: { case: 'version', value: '01' },
      }),
    );
    expect(badVersion.violations[0]?.field).toBe('version');
  });

  it('GetModel returns the model with its aliases; an unknown model is NOT_FOUND naming it', async () => {
    const { model } = await client.getModel({ name: 'truck-roll-gbt' });
    expect(model?.aliases).toEqual({ champion: '1' });
    expect(model?.latestVersion).toBe('1');
    const error = await rpcError(client.getModel({ name: 'no-such-model' }));
    expect(error.code).toBe(Code.NOT_FOUND);
    expect(error.message).toContain('"no-such-model"');
  });

  it('ListModels lists the manifest models by name, and ListModelVersions their versions', async () => {
    const { models } = await client.listModels({});
    expect(models.map((m) => m.name)).toEqual(['truck-roll-gbt', 'truck-roll-logreg']);
    const { versions } = await client.listModelVersions({ model: 'truck-roll-logreg' });
    expect(versions.map((v) => v.version)).toEqual(['1']);
    const token = await rpcError(client.listModels({ pageToken: 'next' }));
    expect(token.violations[0]?.field).toBe('page_token');
  });

  it('ListAliasHistory of a catalogue model is empty', async () => {
    const { moves } = await client.listAliasHistory({ model: 'truck-roll-gbt' });
    expect(moves).toEqual([]);
  });
});

describe('DownloadModelVersion', () => {
  it('streams the metadata first, then bytes that hash to the manifest sha256', async () => {
    const expected = manifestModel('truck-roll-gbt');
    const hash = createHash('sha256');
    let bytes = 0;
    const kinds: string[] = [];
    for await (const message of client.downloadModelVersion({
      model: 'truck-roll-gbt',
      selector: { case: 'alias', value: 'champion' },
    })) {
      kinds.push(message.content.case ?? 'none');
      if (message.content.case === 'version')
        expect(message.content.value.sha256).toBe(expected.sha256);
      if (message.content.case === 'chunk') {
        expect(message.content.value.length).toBeLessThanOrEqual(1024 * 1024);
        hash.update(message.content.value);
        bytes += message.content.value.length;
      }
    }
    expect(kinds[0]).toBe('version');
    expect(kinds.slice(1).every((k) => k === 'chunk')).toBe(true);
    expect(bytes).toBe(expected.sizeBytes);
    expect(hash.digest('hex')).toBe(expected.sha256);
  });

  it('answers NOT_FOUND for an unknown version', async () => {
    const stream = client.downloadModelVersion({
      model: 'truck-roll-gbt',
      selector: { case: 'version', value: '2' },
    });
    const error = await rpcError(
      (async () => {
        for await (const _ of stream) void _;
      })(),
    );
    expect(error.code).toBe(Code.NOT_FOUND);
    expect(error.message).toContain('"2"');
  });
});

describe('Watch', () => {
  it('sends the snapshot, snapshot_complete, then stays open until the client cancels', async () => {
    const cancel = new AbortController();
    const watch = client.watch({ fromRevision: 0n }, { signal: cancel.signal });
    const stream = watch[Symbol.asyncIterator]();
    const received: WatchResponse[] = [];
    for (;;) {
      const next = await stream.next();
      expect(next.done).toBe(false);
      received.push(next.value as WatchResponse);
      if (next.value.change.case === 'snapshotComplete') break;
    }
    expect(received.every((r) => r.snapshot && r.revision === 1n)).toBe(true);
    expect(received.map((r) => r.change.case)).toEqual([
      'versionRegistered',
      'versionRegistered',
      'aliasMoved',
      'aliasMoved',
      'scorerPut',
      'snapshotComplete',
    ]);
    const versions = received.flatMap((r) =>
      r.change.case === 'versionRegistered'
        ? [`${r.change.value.model}@${r.change.value.version}`]
        : [],
    );
    expect(versions).toEqual(['truck-roll-gbt@1', 'truck-roll-logreg@1']);
    const aliases = received.flatMap((r) =>
      r.change.case === 'aliasMoved' ? [r.change.value] : [],
    );
    expect(aliases.map((a) => [a.model, a.alias, a.fromVersion, a.toVersion])).toEqual([
      ['truck-roll-gbt', 'champion', '', '1'],
      ['truck-roll-logreg', 'champion', '', '1'],
    ]);

    // Still open: nothing more arrives, and the stream has not ended.
    const pending = stream.next();
    const outcome = await Promise.race([
      pending.then(() => 'ended'),
      new Promise((r) => setTimeout(() => r('open'), 300)),
    ]);
    expect(outcome).toBe('open');
    expect(server.inFlight()).toBe(1);

    cancel.abort();
    await pending.catch(() => undefined);
    const deadline = Date.now() + 2000;
    while (server.inFlight() > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    expect(server.inFlight()).toBe(0);
  });

  it('refuses a negative from_revision with INVALID_ARGUMENT', async () => {
    const error = await rpcError(
      (async () => {
        for await (const _ of client.watch({ fromRevision: -1n })) void _;
      })(),
    );
    expect(error.code).toBe(Code.INVALID_ARGUMENT);
    expect(error.violations[0]?.field).toBe('from_revision');
  });
});

describe('mutations', () => {
  it('UploadModelVersion answers UNIMPLEMENTED saying the catalogue is read-only and where it comes from', async () => {
    const error = await rpcError(
      client.uploadModelVersion([
        { content: { case: 'header', value: { model: 'm1' } } },
        { content: { case: 'chunk', value: new Uint8Array(16) } },
      ]),
    );
    expect(error.code).toBe(Code.UNIMPLEMENTED);
    expect(error.message).toContain(
      'UploadModelVersion is not available yet: this registry serves a read-only catalogue',
    );
    expect(error.message).toContain(catalogue.catalogueFile);
  });

  it('SetAlias, DeleteAlias, PutScorer and DeleteScorer answer UNIMPLEMENTED', async () => {
    const codes = await Promise.all([
      rpcError(
        client.setAlias({
          model: 'truck-roll-gbt',
          alias: 'champion',
          version: '1',
          reason: 'test',
        }),
      ),
      rpcError(client.deleteAlias({ model: 'truck-roll-gbt', alias: 'champion', reason: 'test' })),
      rpcError(client.putScorer({ scorer: { name: 'x' } })),
      rpcError(client.deleteScorer({ name: 'truck-roll-priority' })),
    ]);
    expect(codes.map((e) => e.code)).toEqual([
      Code.UNIMPLEMENTED,
      Code.UNIMPLEMENTED,
      Code.UNIMPLEMENTED,
      Code.UNIMPLEMENTED,
    ]);
  });
});

// Last: draining ends every open Watch for good.
describe('draining', () => {
  it('ends an open Watch with UNAVAILABLE when the server starts draining', async () => {
    const stream = client.watch({})[Symbol.asyncIterator]();
    for (;;) {
      const next = await stream.next();
      if (next.value?.change.case === 'snapshotComplete') break;
    }
    const started = Date.now();
    const stopped = server.shutdown({ drainDelayMs: 0, graceMs: 10_000 });
    const error = await rpcError(stream.next());
    expect(error.code).toBe(Code.UNAVAILABLE);
    expect(error.message).toContain('watch again from revision 1');
    // The open Watch did not hold the graceful shutdown for its 10 s grace period.
    await stopped;
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import type { ModelVersionSpecSchema } from '@scoregate/contracts';
import {
  GRPCInferenceService,
  ModelVersionSchema,
  RegistryService,
  type ModelVersion,
  WatchResponseSchema,
  type WatchResponse,
} from '@scoregate/contracts';
import { decodeRaw, encodeRaw } from '@scoregate/inference-protocol';
import {
  Code,
  RpcError,
  createRpcClient,
  createRpcServer,
  type RpcClient,
  type RpcServer,
  type ServiceHandlers,
} from '@scoregate/rpc';
import { createArtifactCache } from './artifact-cache.js';
import { createInferenceHandlers } from './inference-handlers.js';
import { createModelStore, type ModelStore } from './model-store.js';
import { createRegistryFollower, type RegistryFollower } from './registry-follower.js';

const fixtures = join(import.meta.dirname, '../../../tools/models/fixtures');
const gbtBytes = new Uint8Array(readFileSync(join(fixtures, 'truck-roll-gbt/1/model.onnx')));
const logregBytes = new Uint8Array(readFileSync(join(fixtures, 'truck-roll-logreg/1/model.onnx')));
const brokenBytes = new Uint8Array(readFileSync(join(fixtures, 'broken/model.onnx')));
interface Golden {
  sample: { columns: string[]; rows: number[][] };
  predictions: Record<string, { label: number[]; probabilities: number[][]; columns: string[] }>;
}
const golden = JSON.parse(readFileSync(join(fixtures, 'golden.json'), 'utf8')) as Golden;
const silent = { info() {}, warn() {}, error() {} };
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually<T>(
  probe: () => Promise<T> | T,
  ok: (value: T) => boolean,
  ms = 5000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (ok(value) || Date.now() > deadline) return value;
    await sleep(20);
  }
}

type WatchItem = MessageInitShape<typeof WatchResponseSchema>;

/**
 * An in-memory RegistryService (Watch and DownloadModelVersion only) to inject failures the real
 * registry refuses to store: artifacts that do not load, downloads whose bytes do not match.
 */
class MemoryRegistry {
  readonly versions = new Map<string, { meta: ModelVersion; served: Uint8Array }>();
  readonly aliases = new Map<string, Map<string, string>>();
  readonly log: WatchResponse[] = [];
  readonly watchedFrom: bigint[] = [];
  revision = 0n;
  private wake = new Set<() => void>();
  private server: RpcServer | undefined;
  port = 0;

  addVersion(
    model: string,
    version: string,
    bytes: Uint8Array,
    served = bytes,
    spec?: MessageInitShape<typeof ModelVersionSpecSchema>,
  ): void {
    const meta = create(ModelVersionSchema, {
      model,
      version,
      sha256: sha256(bytes),
      sizeBytes: BigInt(bytes.length),
      ...(spec ? { spec } : {}),
    });
    this.versions.set(`${model}@${version}`, { meta, served });
    this.append({ case: 'versionRegistered', value: meta });
  }

  setAlias(model: string, alias: string, version: string): void {
    if (!this.aliases.has(model)) this.aliases.set(model, new Map());
    const from = this.aliases.get(model)?.get(alias) ?? '';
    this.aliases.get(model)?.set(alias, version);
    this.append({
      case: 'aliasMoved',
      value: {
        model,
        alias,
        fromVersion: from,
        toVersion: version,
        reason: 'test',
        movedBy: 'test',
      },
    });
  }

  private append(change: NonNullable<WatchItem['change']>): void {
    this.revision++;
    this.log.push(
      create(WatchResponseSchema, { revision: this.revision, change, snapshot: false }),
    );
    for (const wake of this.wake) wake();
  }

  handlers(): ServiceHandlers<typeof RegistryService> {
    const no = () => {
      throw RpcError.unimplemented('not in the test registry');
    };
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const registry = this;
    return {
      uploadModelVersion: async () => no(),
      getModel: no,
      listModels: no,
      getModelVersion: no,
      listModelVersions: no,
      setAlias: no,
      deleteAlias: no,
      listAliasHistory: no,
      putScorer: no,
      getScorer: no,
      listScorers: no,
      deleteScorer: no,
      async *watch(request, context): AsyncGenerator<WatchItem> {
        registry.watchedFrom.push(request.fromRevision);
        let sent = request.fromRevision;
        if (sent === 0n) {
          const item = { revision: registry.revision, snapshot: true };
          for (const { meta } of registry.versions.values())
            yield { ...item, change: { case: 'versionRegistered', value: meta } } as const;
          for (const [model, aliases] of registry.aliases)
            for (const [alias, toVersion] of aliases)
              yield {
                ...item,
                change: { case: 'aliasMoved', value: { model, alias, toVersion } },
              } as const;
          yield { ...item, change: { case: 'snapshotComplete', value: {} } } as const;
          sent = registry.revision;
        }
        while (!context.signal.aborted && !context.draining.aborted) {
          for (const entry of registry.log.filter((e) => e.revision > sent)) {
            yield entry;
            sent = entry.revision;
          }
          await new Promise<void>((resolve) => {
            const done = () => {
              registry.wake.delete(done);
              resolve();
            };
            registry.wake.add(done);
            context.signal.addEventListener('abort', done, { once: true });
            context.draining.addEventListener('abort', done, { once: true });
          });
        }
        throw new RpcError(Code.UNAVAILABLE, 'test registry stopping');
      },
      async *downloadModelVersion(request) {
        const version = request.selector.case === 'version' ? request.selector.value : '';
        const found = registry.versions.get(`${request.model}@${version}`);
        if (!found) throw RpcError.notFound(`no ${request.model}@${version}`);
        yield { content: { case: 'version', value: found.meta } } as const;
        yield { content: { case: 'chunk', value: found.served } } as const;
      },
    };
  }

  async start(port = 0): Promise<void> {
    this.server = createRpcServer({ name: 'memory-registry', logger: silent });
    this.server.register(RegistryService, this.handlers());
    this.port = await this.server.listen(`127.0.0.1:${port}`);
  }

  async stop(): Promise<void> {
    await this.server?.shutdown({ drainDelayMs: 0, graceMs: 1000, flushMs: 0 });
  }
}

interface Harness {
  registry: MemoryRegistry;
  store: ModelStore;
  follower: RegistryFollower;
  client: RpcClient<typeof GRPCInferenceService>;
  close(): Promise<void>;
}
const open: Harness[] = [];
const tmpDirs: string[] = [];
afterEach(async () => {
  while (open.length > 0) await open.pop()?.close();
});
afterAll(() => tmpDirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function follow(
  registry: MemoryRegistry,
  extra: { cacheDir?: string; address?: string } = {},
): Promise<Harness> {
  const store = createModelStore();
  const follower = createRegistryFollower({
    address: extra.address ?? `127.0.0.1:${registry.port}`,
    store,
    logger: silent,
    ...(extra.cacheDir ? { cache: createArtifactCache(extra.cacheDir) } : {}),
    intraOpThreads: 1,
    batching: { enabled: true, maxBatchRows: 256 },
    retireAfterMs: 300,
    maxArtifactBytes: 1024 * 1024,
    minBackoffMs: 50,
    maxBackoffMs: 200,
  });
  const server = createRpcServer({ name: 'scoring-test', logger: silent });
  server.register(
    GRPCInferenceService,
    createInferenceHandlers(store, { isReady: follower.ready }),
  );
  const port = await server.listen('127.0.0.1:0');
  const client = createRpcClient(GRPCInferenceService, { address: `127.0.0.1:${port}` });
  const harness: Harness = {
    registry,
    store,
    follower,
    client,
    async close() {
      client.close();
      await server.shutdown({ drainDelayMs: 0, flushMs: 0 });
      await follower.stop();
      await store.releaseAll();
    },
  };
  open.push(harness);
  return harness;
}

/** Stops `first` and the registry, then follows again from the cache alone, until ready. */
async function restartFromCache(
  registry: MemoryRegistry,
  first: Harness,
  cacheDir: string,
): Promise<Harness> {
  await sleep(100); // the state file is written off the watch path
  await first.close();
  open.pop();
  await registry.stop();
  const again = await follow(registry, { cacheDir });
  await eventually(again.follower.ready, (ready) => ready);
  return again;
}

function sampleFor(model: string): { rows: number; width: number; data: Float32Array } {
  const columns = golden.predictions[model]?.columns ?? [];
  const indexes = columns.map((c) => golden.sample.columns.indexOf(c));
  const data = new Float32Array(
    golden.sample.rows.flatMap((row) => indexes.map((i) => row[i] as number)),
  );
  return { rows: golden.sample.rows.length, width: columns.length, data };
}

async function inferGbt(client: Harness['client'], version = 'champion', rows = 1) {
  const sample = sampleFor('truck-roll-gbt');
  const data = sample.data.slice(0, rows * 8);
  return client.modelInfer(
    {
      modelName: 'truck-roll-gbt',
      modelVersion: version,
      inputs: [{ name: 'features', datatype: 'FP32', shape: [BigInt(rows), 8n] }],
      rawInputContents: [encodeRaw({ datatype: 'FP32', shape: [rows, 8], data })],
    },
    { timeoutMs: 2000 },
  );
}

async function registryWithFixtures(): Promise<MemoryRegistry> {
  const registry = new MemoryRegistry();
  registry.addVersion('truck-roll-gbt', '1', gbtBytes);
  registry.addVersion('truck-roll-logreg', '1', logregBytes);
  registry.setAlias('truck-roll-gbt', 'champion', '1');
  registry.setAlias('truck-roll-logreg', 'champion', '1');
  await registry.start();
  return registry;
}

describe('following the registry', () => {
  it.each(['truck-roll-gbt', 'truck-roll-logreg'])(
    'serves %s from the registry with the Python golden predictions within 1e-5',
    async (model) => {
      const registry = await registryWithFixtures();
      const { client, follower } = await follow(registry);
      await follower.whenReady();
      expect((await client.serverReady({})).ready).toBe(true);
      const { rows, width, data } = sampleFor(model);
      for (const version of ['', 'champion', '1']) {
        const reply = await client.modelInfer({
          modelName: model,
          modelVersion: version,
          inputs: [{ name: 'features', datatype: 'FP32', shape: [BigInt(rows), BigInt(width)] }],
          rawInputContents: [encodeRaw({ datatype: 'FP32', shape: [rows, width], data })],
        });
        expect(reply.modelVersion).toBe('1');
        const index = reply.outputs.findIndex((o) => o.name === 'probabilities');
        const p = decodeRaw('FP32', [rows, 2], reply.rawOutputContents[index] as Uint8Array)
          .data as Float32Array;
        golden.predictions[model]?.probabilities
          .flat()
          .forEach((expected, i) =>
            expect(Math.abs((p[i] as number) - expected)).toBeLessThan(1e-5),
          );
      }
      await registry.stop();
    },
  );

  it('moves champion to a new version under load with no failed call, answering from it within 2 s', async () => {
    const registry = await registryWithFixtures();
    const { client, follower, store } = await follow(registry);
    await follower.whenReady();
    const failures: unknown[] = [];
    const served: { at: number; version: string }[] = [];
    let running = true;
    const loops = Array.from({ length: 8 }, async () => {
      while (running) {
        try {
          const reply = await inferGbt(client);
          served.push({ at: Date.now(), version: reply.modelVersion });
        } catch (error) {
          failures.push(error);
        }
      }
    });
    await sleep(300);
    registry.addVersion('truck-roll-gbt', '2', gbtBytes);
    registry.setAlias('truck-roll-gbt', 'champion', '2');
    const movedAt = Date.now();
    await eventually(
      () => served.at(-1)?.version,
      (v) => v === '2',
    );
    await sleep(300);
    running = false;
    await Promise.all(loops);
    expect(failures).toEqual([]);
    const firstNew = served.find((s) => s.version === '2');
    expect(firstNew).toBeDefined();
    expect((firstNew?.at ?? Infinity) - movedAt).toBeLessThan(2000);
    expect(served.filter((s) => s.at > (firstNew?.at ?? 0)).every((s) => s.version === '2')).toBe(
      true,
    );
    // The old version is retired once no alias needs it and its calls are over.
    const versions = await eventually(
      () => store.versions('truck-roll-gbt'),
      (v) => v.length === 1,
    );
    expect(versions).toEqual(['2']);
    await registry.stop();
  });

  it.each([
    ['whose bytes do not load', brokenBytes, brokenBytes, 'load'],
    ['whose downloaded bytes do not match the declared sha256', gbtBytes, logregBytes, 'verify'],
  ] as const)(
    'never lets a new version %s replace the serving one; calls keep succeeding',
    async (_case, declared, served, stage) => {
      const registry = await registryWithFixtures();
      const { client, follower, store } = await follow(registry);
      await follower.whenReady();
      const failures: unknown[] = [];
      const versions = new Set<string>();
      let running = true;
      const loops = Array.from({ length: 4 }, async () => {
        while (running) {
          try {
            versions.add((await inferGbt(client)).modelVersion);
          } catch (error) {
            failures.push(error);
          }
        }
      });
      registry.addVersion('truck-roll-gbt', '2', declared, served);
      registry.setAlias('truck-roll-gbt', 'champion', '2');
      const failure = await eventually(
        () => store.failure('truck-roll-gbt', '2'),
        (f) => f !== undefined,
      );
      await sleep(200);
      running = false;
      await Promise.all(loops);
      expect(failure?.stage).toBe(stage);
      expect(failures).toEqual([]);
      expect([...versions]).toEqual(['1']);
      expect((await client.modelReady({ name: 'truck-roll-gbt', version: 'champion' })).ready).toBe(
        true,
      );
      expect((await client.modelReady({ name: 'truck-roll-gbt', version: '2' })).ready).toBe(false);
      const error = await inferGbt(client, '2').then(
        () => undefined,
        (e: unknown) => e as RpcError,
      );
      expect(error?.code).toBe(Code.NOT_FOUND);
      expect(error?.message).toContain(
        `model "truck-roll-gbt" version "2" is not loaded: ${stage} failed`,
      );
      await registry.stop();
    },
  );

  it('keeps serving while the registry is down and resumes from the last revision it saw', async () => {
    const registry = await registryWithFixtures();
    const { client, follower } = await follow(registry);
    await follower.whenReady();
    const seen = follower.revision();
    await registry.stop();
    expect((await inferGbt(client)).modelVersion).toBe('1');
    registry.addVersion('truck-roll-gbt', '2', gbtBytes);
    registry.setAlias('truck-roll-gbt', 'champion', '2');
    await registry.start(registry.port);
    const reply = await eventually(
      () => inferGbt(client),
      (r) => r.modelVersion === '2',
    );
    expect(reply.modelVersion).toBe('2');
    expect(registry.watchedFrom).toEqual([0n, seen]);
    await registry.stop();
  });

  it('answers ServerLive but not ServerReady while it has never reached the registry', async () => {
    const registry = new MemoryRegistry();
    await registry.start();
    const unreachable = registry.port;
    await registry.stop();
    const { client, follower } = await follow(registry, { address: `127.0.0.1:${unreachable}` });
    await sleep(300);
    expect((await client.serverLive({})).live).toBe(true);
    expect((await client.serverReady({})).ready).toBe(false);
    expect(follower.ready()).toBe(false);
    const error = await inferGbt(client).then(
      () => undefined,
      (e: unknown) => e as RpcError,
    );
    expect(error?.code).toBe(Code.NOT_FOUND);
  });

  it('restarts from its cache and serves while the registry is unreachable', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'scoring-cache-'));
    tmpDirs.push(cacheDir);
    const registry = await registryWithFixtures();
    const first = await follow(registry, { cacheDir });
    await first.follower.whenReady();
    const { client } = await restartFromCache(registry, first, cacheDir);
    expect((await client.serverReady({})).ready).toBe(true);
    expect((await inferGbt(client)).modelVersion).toBe('1');
  });

  it('lets NaN through to a version whose input declares accepts_non_finite, also after a restart from its cache, and refuses it for the others', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'scoring-cache-'));
    tmpDirs.push(cacheDir);
    const registry = new MemoryRegistry();
    registry.addVersion('truck-roll-gbt', '1', gbtBytes, gbtBytes, {
      input: { name: 'features', datatype: 'FP32', shape: [-1n, 8n], acceptsNonFinite: true },
    });
    registry.addVersion('truck-roll-logreg', '1', logregBytes);
    registry.setAlias('truck-roll-gbt', 'champion', '1');
    registry.setAlias('truck-roll-logreg', 'champion', '1');
    await registry.start();
    const withNaN = (model: string, width: number) => {
      const data = new Float32Array(width).fill(1);
      data[width - 1] = Number.NaN;
      return {
        modelName: model,
        inputs: [{ name: 'features', datatype: 'FP32', shape: [1n, BigInt(width)] }],
        rawInputContents: [encodeRaw({ datatype: 'FP32', shape: [1, width], data })],
      };
    };
    const check = async (client: Harness['client']) => {
      const reply = await client.modelInfer(withNaN('truck-roll-gbt', 8), { timeoutMs: 2000 });
      const index = reply.outputs.findIndex((o) => o.name === 'probabilities');
      const p = decodeRaw('FP32', [1, 2], reply.rawOutputContents[index] as Uint8Array)
        .data as Float32Array;
      expect(Array.from(p).every(Number.isFinite)).toBe(true);
      const refused = (await client
        .modelInfer(withNaN('truck-roll-logreg', 4), { timeoutMs: 2000 })
        .catch((e: unknown) => e)) as RpcError;
      expect(refused.code).toBe(Code.INVALID_ARGUMENT);
      expect(refused.message).toMatch(/^raw_input_contents\[0\]: input "features" holds NaN/);
    };
    const first = await follow(registry, { cacheDir });
    await first.follower.whenReady();
    await check(first.client);
    await check((await restartFromCache(registry, first, cacheDir)).client);
  });
});

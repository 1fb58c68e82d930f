import { execFileSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { RegistryService, type ScorerSchema } from '@scoregate/contracts';
import { Code, createRpcClient, freePort, RpcError, type RpcClient } from '@scoregate/rpc';
import { startService } from '@scoregate/stack';
import { createLogger } from '@scoregate/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRouteTable, type RouteTable, type TableRoute } from './route-table.js';

// The registry as a real process (its built dist with the telemetry hook, its own data folder
// and port, seeded with the demo catalogue: truck-roll-gbt and truck-roll-logreg, each with
// `champion` → 1, and the scorer truck-roll-priority), killed with SIGKILL and restarted.
const root = fileURLToPath(new URL('../../../..', import.meta.url));
const entry = path.join(root, 'apps/registry-service/dist/main.js');
const logger = createLogger({ service: 'gateway-route-table-test', level: 'error' });

let dataDir: string;
let port: number;
let registryProcess: ChildProcess | undefined;
let registry: RpcClient<typeof RegistryService>;
let table: RouteTable;

async function startRegistryProcess(): Promise<ChildProcess> {
  const started = await startService({
    root,
    name: 'registry-service',
    port,
    env: { REGISTRY_DATA_DIR: dataDir, REGISTRY_KAFKA_BROKERS: '', LOG_LEVEL: 'warn' },
  });
  return started.process;
}

async function kill(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

async function until<T>(probe: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const summary = (route: TableRoute) => route.chain.map((m) => `${m.model}@${m.alias}:${m.version}`);

function scorer(
  name: string,
  budgetMs: number,
  extra: {
    chain?: { model: string; alias: string }[];
    canary?: { alias: string; share: number };
    shadow?: { model: string; alias: string; share: number };
  } = {},
): MessageInitShape<typeof ScorerSchema> {
  return {
    name,
    description: 'route table test',
    entityType: 'customer',
    budget: { seconds: 0n, nanos: budgetMs * 1_000_000 },
    chain: [
      { model: 'truck-roll-gbt', alias: 'champion' },
      { model: 'truck-roll-logreg', alias: 'champion' },
    ],
    defaultAnswer: { score: 0.3, reason: 'base rate' },
    scoreOutput: 'probabilities',
    scoreIndex: 1,
    ...extra,
  };
}

beforeAll(async () => {
  if (!existsSync(entry))
    execFileSync('npx', ['tsc', '-b', 'apps/registry-service/tsconfig.lib.json'], {
      cwd: root,
      stdio: 'ignore',
      timeout: 120_000,
    });
  dataDir = await mkdtemp(path.join(tmpdir(), 'gateway-route-table-'));
  port = await freePort();
  registryProcess = await startRegistryProcess();
  registry = createRpcClient(RegistryService, { address: `127.0.0.1:${port}` });
  table = createRouteTable({ registry, logger });
  await Promise.race([
    table.whenReady(),
    new Promise((_, reject) => setTimeout(() => reject(new Error('no snapshot in 10 s')), 10_000)),
  ]);
}, 150_000);

afterAll(async () => {
  await table?.stop();
  registry?.close();
  await kill(registryProcess);
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('route table following the registry Watch (registry as a real process)', () => {
  it('serves the catalogue scorer from the first snapshot, chain resolved to versions with their feature contracts', async () => {
    expect(table.ready()).toBe(true);
    expect(table.revision()).toBeGreaterThan(0n);
    const route = await table.resolve('truck-roll-priority');
    expect(summary(route)).toEqual(['truck-roll-gbt@champion:1', 'truck-roll-logreg@champion:1']);
    expect(route.budgetMs).toBe(50);
    expect(route.chain[0]!.inputName).toBe('features');
    expect(route.chain[0]!.acceptsNonFinite).toBe(false);
    expect(route.chain[0]!.contract.map((f) => f.ref)).toContain('customer_stats:signal_snr_db');
    expect(route.chain[0]!.outputs.map((o) => o.name)).toContain('probabilities');
    expect(route.canary).toBeUndefined();
    expect(route.shadow).toBeUndefined();
  });

  it('an unknown scorer is NOT_FOUND once the snapshot is in, without asking the registry', async () => {
    await expect(table.resolve('no-such-scorer')).rejects.toMatchObject({ code: Code.NOT_FOUND });
  });

  it('a scorer put in the registry is served within 1 s, and a change to it too, without restart', async () => {
    const put = await registry.putScorer({ scorer: scorer('route-test-new', 80) });
    const begin = Date.now();
    const route = await until(
      () => table.resolve('route-test-new').catch(() => undefined),
      1_000,
      'new scorer served',
    );
    const seenAfterMs = Date.now() - begin;
    expect(seenAfterMs).toBeLessThan(1_000);
    expect(route.budgetMs).toBe(80);
    expect(table.revision()).toBeGreaterThanOrEqual(put.revision);

    const changed = Date.now();
    await registry.putScorer({
      scorer: scorer('route-test-new', 120, {
        chain: [{ model: 'truck-roll-logreg', alias: 'champion' }],
      }),
    });
    const updated = await until(
      async () => {
        const r = await table.resolve('route-test-new');
        return r.budgetMs === 120 ? r : undefined;
      },
      1_000,
      'changed scorer served',
    );
    expect(Date.now() - changed).toBeLessThan(1_000);
    expect(summary(updated)).toEqual(['truck-roll-logreg@champion:1']);

    await registry.deleteScorer({ name: 'route-test-new' });
    await until(
      () =>
        table.resolve('route-test-new').then(
          () => undefined,
          (e: unknown) => (RpcError.from(e).code === Code.NOT_FOUND ? true : undefined),
        ),
      1_000,
      'deleted scorer NOT_FOUND',
    );
  });

  it("an alias move updates the chain's version, and a canary alias is resolved for the first model", async () => {
    // A second version of truck-roll-gbt (the logreg artifact, with its own spec).
    const bytes = new Uint8Array(
      await readFile(path.join(root, 'tools/models/fixtures/truck-roll-logreg/1/model.onnx')),
    );
    const { version: logreg } = await registry.getModelVersion({
      model: 'truck-roll-logreg',
      selector: { case: 'version', value: '1' },
    });
    const uploaded = await registry.uploadModelVersion([
      {
        content: {
          case: 'header',
          value: {
            model: 'truck-roll-gbt',
            sha256: createHash('sha256').update(bytes).digest('hex'),
            sizeBytes: BigInt(bytes.length),
            spec: logreg!.spec!,
            registeredBy: 'route-table-test',
          },
        },
      },
      { content: { case: 'chunk', value: bytes } },
    ]);
    const v2 = uploaded.version!.version;
    expect(v2).toBe('2');

    await registry.setAlias({
      model: 'truck-roll-gbt',
      alias: 'champion',
      version: v2,
      reason: 'test',
    });
    const moved = Date.now();
    const route = await until(
      async () => {
        const r = await table.resolve('truck-roll-priority');
        return r.chain[0]?.version === v2 ? r : undefined;
      },
      1_000,
      'alias move seen',
    );
    expect(Date.now() - moved).toBeLessThan(1_000);
    // The chain step now carries version 2's contract (the logreg spec), not version 1's.
    expect(route.chain[0]!.contract).toEqual(logreg!.spec!.contract!.inputs);

    await registry.setAlias({
      model: 'truck-roll-gbt',
      alias: 'canary',
      version: '1',
      reason: 'test',
    });
    await registry.putScorer({
      scorer: scorer('truck-roll-priority', 50, {
        canary: { alias: 'canary', share: 0.1 },
        shadow: { model: 'truck-roll-logreg', alias: 'champion', share: 0.5 },
      }),
    });
    const withCanary = await until(
      async () => {
        const r = await table.resolve('truck-roll-priority');
        return r.canary && r.shadow ? r : undefined;
      },
      1_000,
      'canary and shadow seen',
    );
    expect(withCanary.canary).toMatchObject({
      share: 0.1,
      model: { model: 'truck-roll-gbt', alias: 'canary', version: '1' },
    });
    expect(withCanary.shadow).toMatchObject({
      share: 0.5,
      model: { model: 'truck-roll-logreg', version: '1' },
    });
  });

  it('registry SIGKILLed: resolve keeps answering with the last known routes for 5 s; after the restart, later changes arrive once each by resuming from the revision', async () => {
    const before = await table.resolve('truck-roll-priority');
    const revisionBefore = table.revision();
    const statsBefore = table.stats();
    await kill(registryProcess);
    registryProcess = undefined;

    const outageEnds = Date.now() + 5_000;
    let answered = 0;
    let worstMs = 0;
    while (Date.now() < outageEnds) {
      const t0 = performance.now();
      const route = await table.resolve('truck-roll-priority');
      worstMs = Math.max(worstMs, performance.now() - t0);
      expect(route).toBe(before);
      answered++;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(answered).toBeGreaterThan(200);
    expect(worstMs).toBeLessThan(50);
    expect(table.ready()).toBe(true);
    expect(table.stats().watchRestarts).toBeGreaterThan(statsBefore.watchRestarts);

    registryProcess = await startRegistryProcess();
    await registry.waitForReady(10_000);
    const first = await registry.setAlias({
      model: 'truck-roll-gbt',
      alias: 'champion',
      version: '1',
      reason: 'after restart',
    });
    const second = await registry.putScorer({ scorer: scorer('route-test-after-restart', 70) });
    expect(first.revision).toBe(revisionBefore + 1n);
    expect(second.revision).toBe(revisionBefore + 2n);
    await until(
      async () => (table.revision() === second.revision ? true : undefined),
      10_000,
      'changes after restart',
    );
    const route = await table.resolve('truck-roll-priority');
    expect(route.chain[0]!.version).toBe('1');
    expect((await table.resolve('route-test-after-restart')).budgetMs).toBe(70);
    await new Promise((r) => setTimeout(r, 700)); // nothing else arrives
    // Resumed, not reloaded: no second snapshot, and exactly the two changes applied once each.
    expect(table.stats().snapshots).toBe(statsBefore.snapshots);
    expect(table.stats().changes).toBe(statsBefore.changes + 2);
    expect(table.revision()).toBe(second.revision);
  }, 40_000);
});

describe('route table before its first snapshot', () => {
  it('asks the registry directly until the snapshot is in', async () => {
    const early = createRouteTable({ registry, logger });
    try {
      expect(early.ready()).toBe(false); // the watch cannot have answered yet
      const route = await early.resolve('truck-roll-priority', undefined, Date.now() + 2_000);
      expect(summary(route)[1]).toBe('truck-roll-logreg@champion:1');
      await expect(
        early.resolve('no-such-scorer', undefined, Date.now() + 2_000),
      ).rejects.toMatchObject({
        code: Code.NOT_FOUND,
      });
    } finally {
      await early.stop();
    }
  });

  it('answers UNAVAILABLE when the registry has never been reachable', async () => {
    const nowhere = createRpcClient(RegistryService, { address: `127.0.0.1:${await freePort()}` });
    const lonely = createRouteTable({ registry: nowhere, logger });
    try {
      const begin = Date.now();
      await expect(
        lonely.resolve('truck-roll-priority', undefined, Date.now() + 300),
      ).rejects.toMatchObject({ code: Code.UNAVAILABLE });
      expect(Date.now() - begin).toBeLessThan(1_000);
      expect(lonely.ready()).toBe(false);
    } finally {
      await lonely.stop();
      nowhere.close();
    }
  });
});

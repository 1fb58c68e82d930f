import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RegistryService } from '@scoregate/contracts';
import { createRpcClient, freePort, type RpcClient } from '@scoregate/rpc';
import { startService } from '@scoregate/stack';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRegistryWatch, type RegistryChange, type RegistryWatch } from './registry-watch.js';

// registry-service as a real process (its built dist, its own data folder and port, seeded with
// the demo catalogue: truck-roll-gbt and truck-roll-logreg with `champion` → 1, and the scorer
// truck-roll-priority), killed with SIGKILL and restarted on the same port.
const root = fileURLToPath(new URL('../../..', import.meta.url));
const entry = path.join(root, 'apps/registry-service/dist/main.js');

let dataDir: string;
let port: number;
let registryProcess: ChildProcess | undefined;
let registry: RpcClient<typeof RegistryService>;

async function startRegistry(): Promise<ChildProcess> {
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

async function until(probe: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface Recorded {
  readonly snapshots: { changes: readonly RegistryChange[]; revision: bigint }[];
  readonly changes: { change: RegistryChange; revision: bigint }[];
  readonly lines: { level: 'info' | 'warn' | 'error'; fields: object; message: string }[];
  restarts: number;
}

const watches: RegistryWatch[] = [];
afterEach(async () => {
  while (watches.length > 0) await watches.pop()?.stop();
});

/** A watch over `client` that records what it is given and what it logs. */
function recordedWatch(client = registry): { watch: RegistryWatch; seen: Recorded } {
  const seen: Recorded = { snapshots: [], changes: [], lines: [], restarts: 0 };
  const log =
    (level: 'info' | 'warn' | 'error') =>
    (fields: object | string, message = '') =>
      typeof fields === 'string'
        ? seen.lines.push({ level, fields: {}, message: fields })
        : seen.lines.push({ level, fields, message });
  const watch = createRegistryWatch({
    client,
    logger: { info: log('info'), warn: log('warn'), error: log('error') },
    backoff: { initialMs: 50, maxMs: 200 },
    keepsServing: 'the test state',
    onSnapshot: (changes, revision) => seen.snapshots.push({ changes, revision }),
    onChange: (change, revision) => seen.changes.push({ change, revision }),
    onRestart: () => seen.restarts++,
  });
  watches.push(watch);
  return { watch, seen };
}

const scorer = (name: string) => ({
  name,
  description: 'registry watch test',
  entityType: 'customer',
  budget: { seconds: 0n, nanos: 50_000_000 },
  chain: [{ model: 'truck-roll-gbt', alias: 'champion' }],
  defaultAnswer: { score: 0.3, reason: 'base rate' },
  scoreOutput: 'probabilities',
  scoreIndex: 1,
});

beforeAll(async () => {
  if (!existsSync(entry))
    execFileSync('npx', ['tsc', '-b', 'apps/registry-service/tsconfig.lib.json'], {
      cwd: root,
      stdio: 'ignore',
      timeout: 120_000,
    });
  dataDir = await mkdtemp(path.join(tmpdir(), 'registry-watch-'));
  port = await freePort();
  registryProcess = await startRegistry();
  registry = createRpcClient(RegistryService, { address: `127.0.0.1:${port}` });
}, 150_000);

afterAll(async () => {
  registry?.close();
  await kill(registryProcess);
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('registry watch (registry-service as a real process)', () => {
  it('hands over the whole registry as one snapshot, then becomes ready at its revision', async () => {
    const { watch, seen } = recordedWatch();
    expect(watch.ready()).toBe(false);
    expect(watch.revision()).toBe(0n);
    watch.start();
    await watch.whenReady();
    expect(seen.snapshots).toHaveLength(1);
    const [snapshot] = seen.snapshots;
    expect(watch.revision()).toBe(snapshot!.revision);
    expect(snapshot!.revision).toBeGreaterThan(0n);
    const cases = snapshot!.changes.map((c) => c.case);
    expect(cases).not.toContain('snapshotComplete');
    expect(cases).toEqual(expect.arrayContaining(['versionRegistered', 'aliasMoved', 'scorerPut']));
    const scorers = snapshot!.changes.flatMap((c) =>
      c.case === 'scorerPut' ? [c.value.name] : [],
    );
    expect(scorers).toContain('truck-roll-priority');
    expect(seen.changes).toEqual([]);
  });

  it('passes each live change once, with its revision, within 1 s', async () => {
    const { watch, seen } = recordedWatch();
    watch.start();
    await watch.whenReady();
    const put = await registry.putScorer({ scorer: scorer('watch-test-live') });
    await until(() => watch.revision() === put.revision, 1_000, 'live change applied');
    await registry.deleteScorer({ name: 'watch-test-live' });
    await until(() => seen.changes.length === 2, 1_000, 'deletion applied');
    expect(seen.changes.map((c) => [c.change.case, c.revision])).toEqual([
      ['scorerPut', put.revision],
      ['scorerDeleted', put.revision + 1n],
    ]);
    expect(seen.snapshots).toHaveLength(1);
  });

  it('registry SIGKILLed: warns once, retries with info lines, and resumes from its revision without a second snapshot', async () => {
    const { watch, seen } = recordedWatch();
    watch.start();
    await watch.whenReady();
    const before = watch.revision();
    await kill(registryProcess);
    registryProcess = undefined;
    await until(() => seen.restarts >= 3, 5_000, 'watch restarts');
    expect(watch.ready()).toBe(true);
    const interrupted = seen.lines.filter((l) =>
      l.message.startsWith('registry watch interrupted'),
    );
    expect(interrupted[0]?.level).toBe('warn');
    expect(interrupted[0]?.message).toMatch(
      new RegExp(`; the test state keep serving; resuming from revision ${before}$`),
    );
    expect(interrupted[0]?.fields).toMatchObject({ revision: String(before), attempt: 0 });
    expect(interrupted.slice(1).every((l) => l.level === 'info')).toBe(true);

    registryProcess = await startRegistry();
    await registry.waitForReady(10_000);
    const put = await registry.putScorer({ scorer: scorer('watch-test-after-restart') });
    expect(put.revision).toBe(before + 1n);
    await until(() => watch.revision() === put.revision, 10_000, 'change after restart');
    await new Promise((r) => setTimeout(r, 300)); // nothing else arrives
    expect(seen.snapshots).toHaveLength(1);
    expect(seen.changes.map((c) => c.revision)).toEqual([put.revision]);
  }, 40_000);

  it('stops promptly while the registry has never been reachable, never ready', async () => {
    const nowhere = createRpcClient(RegistryService, { address: `127.0.0.1:${await freePort()}` });
    try {
      const { watch, seen } = recordedWatch(nowhere);
      watch.start();
      await until(() => seen.restarts >= 1, 2_000, 'first retry');
      const begin = Date.now();
      await watch.stop();
      expect(Date.now() - begin).toBeLessThan(500);
      expect(watch.ready()).toBe(false);
      expect(seen.snapshots).toEqual([]);
      const restarts = seen.restarts;
      watch.start(); // stopped for good
      await new Promise((r) => setTimeout(r, 200));
      expect(seen.restarts).toBe(restarts);
    } finally {
      nowhere.close();
    }
  });
});

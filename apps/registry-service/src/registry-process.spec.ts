import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryService, type WatchResponse } from '@scoregate/contracts';
import { createRpcClient, freePort, RpcError, type RpcClient } from '@scoregate/rpc';
import { startService } from '@scoregate/stack';
import { DEFAULT_MANIFEST_FILE, loadCatalogue } from './catalogue.js';
import { removeDir, sha256Of, uploadMessages, withMetadata } from './testing/registry-harness.js';

// The registry as a real process (the built dist, with the telemetry hook), killed with SIGKILL
// and restarted on the same data folder and port.
const root = fileURLToPath(new URL('../../..', import.meta.url));

let dataDir: string;
let port: number;
let registry: ChildProcess | undefined;
let client: RpcClient<typeof RegistryService>;

async function startRegistryProcess(dir = dataDir, onPort = port): Promise<ChildProcess> {
  const started = await startService({
    root,
    name: 'registry-service',
    port: onPort,
    env: { REGISTRY_DATA_DIR: dir, REGISTRY_WATCH_POLL_MS: '200', LOG_LEVEL: 'warn' },
  });
  return started.process;
}

async function kill(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'registry-process-'));
  port = await freePort();
  registry = await startRegistryProcess();
  client = createRpcClient(RegistryService, { address: `127.0.0.1:${port}` });
});

afterAll(async () => {
  client?.close();
  await kill(registry, 'SIGKILL');
  if (dataDir) await removeDir(dataDir);
});

/**
 * A watcher as a follower writes one: it keeps the last revision it saw and, when the stream
 * fails, watches again from there after a short pause.
 */
function startFollower() {
  const received: WatchResponse[] = [];
  let last = 0n;
  let reconnects = 0;
  const stop = new AbortController();
  const done = (async () => {
    while (!stop.signal.aborted) {
      try {
        for await (const change of client.watch({ fromRevision: last }, { signal: stop.signal })) {
          received.push(change);
          last = change.revision;
        }
      } catch (error) {
        if (stop.signal.aborted) break;
        void RpcError.from(error);
        reconnects++;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  })();
  return {
    received,
    reconnects: () => reconnects,
    stop: async () => {
      stop.abort();
      await done;
    },
  };
}

async function until(probe: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('registry-service process: SIGKILL and restart', () => {
  it('a watcher that resumes from its last revision receives both moves made after the restart, in order, once each; nothing committed is lost', async () => {
    const follower = startFollower();
    try {
      await until(
        () => follower.received.some((r) => r.change.case === 'snapshotComplete'),
        10_000,
        'snapshot',
      );
      const snapshotRevision = follower.received.at(-1)!.revision;

      // Commit a new version, then kill the registry at once.
      const gbt = new Uint8Array(
        await readFile(
          path.join(path.dirname(DEFAULT_MANIFEST_FILE), 'truck-roll-gbt/1/model.onnx'),
        ),
      );
      const bytes = withMetadata(gbt, 'run', 'restart');
      const spec = (await (await loadCatalogue()).getVersion('truck-roll-gbt', '1'))!.spec!;
      const uploaded = await client.uploadModelVersion(
        uploadMessages('truck-roll-gbt', spec, bytes),
      );
      expect(uploaded.version?.version).toBe('2');
      await until(
        () =>
          follower.received.length > 0 && follower.received.at(-1)!.revision === uploaded.revision,
        5000,
        'upload seen',
      );
      await kill(registry, 'SIGKILL');
      registry = await startRegistryProcess();
      await client.waitForReady(10_000); // the channel reconnects after its back-off

      const first = await client.setAlias({
        model: 'truck-roll-gbt',
        alias: 'champion',
        version: '2',
        reason: 'after restart 1',
      });
      const second = await client.setAlias({
        model: 'truck-roll-logreg',
        alias: 'fallback',
        version: '1',
        reason: 'after restart 2',
      });
      expect(second.revision).toBe(first.revision + 1n);
      await until(
        () => follower.received.at(-1)?.revision === second.revision,
        10_000,
        'both moves',
      );
      await new Promise((r) => setTimeout(r, 500)); // nothing else arrives

      expect(follower.reconnects()).toBeGreaterThanOrEqual(1);
      const live = follower.received.filter((r) => !r.snapshot);
      expect(live.map((r) => [r.revision, r.change.case])).toEqual([
        [uploaded.revision, 'versionRegistered'],
        [first.revision, 'aliasMoved'],
        [second.revision, 'aliasMoved'],
      ]);
      expect(live[0]!.revision).toBe(snapshotRevision + 1n);
      const moves = live
        .slice(1)
        .map((r) => (r.change.case === 'aliasMoved' ? r.change.value : undefined));
      expect(moves.map((m) => [m?.model, m?.alias, m?.fromVersion, m?.toVersion])).toEqual([
        ['truck-roll-gbt', 'champion', '1', '2'],
        ['truck-roll-logreg', 'fallback', '', '1'],
      ]);
      // One snapshot only: the reconnect resumed from the revision, it did not start over.
      expect(follower.received.filter((r) => r.change.case === 'snapshotComplete')).toHaveLength(1);

      // The version committed just before the kill survived, bytes included.
      const chunks: Uint8Array[] = [];
      for await (const message of client.downloadModelVersion({
        model: 'truck-roll-gbt',
        selector: { case: 'alias', value: 'champion' },
      }))
        if (message.content.case === 'chunk') chunks.push(message.content.value);
      expect(sha256Of(Uint8Array.from(chunks.flatMap((c) => [...c])))).toBe(sha256Of(bytes));
    } finally {
      await follower.stop();
    }
  });
});

describe('registry-service processes sharing one SQLite file', () => {
  it('two processes writing at once never give two versions one number nor lose an alias move', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'registry-shared-'));
    const ports = [await freePort(), await freePort()];
    const processes: ChildProcess[] = [];
    const clients: RpcClient<typeof RegistryService>[] = [];
    try {
      // One after the other: the second finds the store filled and imports nothing.
      for (const p of ports) {
        processes.push(await startRegistryProcess(dir, p));
        clients.push(createRpcClient(RegistryService, { address: `127.0.0.1:${p}` }));
      }
      const gbt = new Uint8Array(
        await readFile(
          path.join(path.dirname(DEFAULT_MANIFEST_FILE), 'truck-roll-gbt/1/model.onnx'),
        ),
      );
      const spec = (await (await loadCatalogue()).getVersion('truck-roll-gbt', '1'))!.spec!;
      const uploads = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          clients[i % 2]!.uploadModelVersion(
            uploadMessages('shared', spec, withMetadata(gbt, 'copy', String(i))),
            { timeoutMs: 30_000 },
          ),
        ),
      );
      expect(uploads.map((u) => Number(u.version?.version)).sort((a, b) => a - b)).toEqual([
        1, 2, 3, 4, 5, 6, 7, 8,
      ]);
      const moves = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          clients[i % 2]!.setAlias({
            model: 'shared',
            alias: 'champion',
            version: String((i % 8) + 1),
            reason: `move ${i}`,
          }),
        ),
      );
      const revisions = [...uploads, ...moves]
        .filter((r) => !('moved' in r) || r.moved!.fromVersion !== r.moved!.toVersion)
        .map((r) => r.revision)
        .sort((a, b) => (a < b ? -1 : 1));
      expect(new Set(revisions).size).toBe(revisions.length);
      const { moves: history } = await clients[0]!.listAliasHistory({
        model: 'shared',
        alias: 'champion',
      });
      const chain = [...history].reverse();
      expect(chain[0]?.fromVersion).toBe('');
      for (let i = 1; i < chain.length; i++)
        expect(chain[i]!.fromVersion).toBe(chain[i - 1]!.toVersion);
      const { model } = await clients[1]!.getModel({ name: 'shared' });
      expect(model?.aliases['champion']).toBe(chain.at(-1)?.toVersion);
    } finally {
      clients.forEach((c) => c.close());
      for (const child of processes) await kill(child, 'SIGTERM');
      await removeDir(dir);
    }
  });
});

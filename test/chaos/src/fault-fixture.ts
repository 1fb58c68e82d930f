import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { durationMs } from '@bufbuild/protobuf/wkt';
import type { ScoreResponse } from '@scoregate/contracts';
import { freePort, startStack, type RunningStack, type ServiceName } from '@scoregate/stack';
import { repoRoot } from './chaos-fixture.js';

/**
 * A redis-server of the test's own on a free loopback port (the shared server must never be
 * stopped), with an append-only file fsynced at every write: after SIGKILL, `start()` on the same
 * port and directory finds the data again.
 */
export interface PrivateRedis {
  readonly port: number;
  readonly url: string;
  start(): Promise<void>;
  /** SIGKILL (no goodbye to clients); resolves once the process exited. */
  kill(): Promise<void>;
  dispose(): Promise<void>;
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sg-chaos-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''];
  args.push('--appendonly', 'yes', '--appendfsync', 'always');
  let child: ChildProcess | undefined;

  async function start(): Promise<void> {
    if (child) return;
    const started = spawn('redis-server', args, { stdio: 'ignore' });
    child = started;
    started.once('exit', () => {
      if (child === started) child = undefined;
    });
    const deadline = Date.now() + 10_000;
    while (!(await answersPing(port))) {
      if (child !== started) throw new Error(`redis-server on port ${port} exited at start`);
      if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not start`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async function kill(): Promise<void> {
    const running = child;
    if (!running) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGKILL');
    await exited;
  }

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    start,
    kill,
    async dispose() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** True when a server on `port` answers PING (and is not loading its data). */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

/**
 * The five services on free ports, the e2e catalogue in a fresh registry (as `startChaosStack`),
 * plus extra environment per service (e.g. feature-service on a private Redis).
 */
export async function startFaultStack(
  serviceEnv: Partial<Record<ServiceName, Record<string, string>>> = {},
): Promise<RunningStack & { dir: string; output: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'scoregate-chaos-'));
  const output: string[] = [];
  const ports = Object.fromEntries(
    ['gateway', 'feature-service', 'scoring-service', 'registry-service', 'retrain-service'].map(
      (s) => [s, 0],
    ),
  ) as Record<ServiceName, number>;
  const stack = await startStack({
    root: repoRoot,
    ports,
    env: { LOG_LEVEL: 'warn' },
    serviceEnv: {
      ...serviceEnv,
      'registry-service': {
        REGISTRY_CATALOGUE_FILE: join(repoRoot, 'test/e2e/fixtures/e2e-catalogue.json'),
        REGISTRY_DATA_DIR: join(dir, 'registry'),
        ...serviceEnv['registry-service'],
      },
      'scoring-service': {
        SCORING_CACHE_DIR: join(dir, 'scoring-cache'),
        ...serviceEnv['scoring-service'],
      },
    },
    onOutput: (service, line) => {
      if (output.length < 2_000) output.push(`[${service}] ${line}`);
    },
    readyTimeoutMs: 90_000,
  });
  return { ...stack, dir, output };
}

/** One call's outcome as the test sees it. */
export interface Outcome {
  readonly ok: boolean;
  /** Wall time measured by the client, ms. */
  readonly ms: number;
  readonly reply?: ScoreResponse;
  readonly error?: string;
}

/** Summary line of a batch of outcomes against `budgetMs`. */
export function summarize(outcomes: readonly Outcome[], budgetMs: number): string {
  const ok = outcomes.filter((o) => o.ok);
  const wall = ok.map((o) => o.ms);
  const total = ok.map((o) => durationMs(o.reply!.timings!.total!));
  const max = (xs: number[]) => (xs.length ? Math.max(...xs) : NaN).toFixed(1);
  return (
    `${outcomes.length} calls, ${outcomes.length - ok.length} errors, budget ${budgetMs} ms, ` +
    `client max ${max(wall)} ms, gateway total max ${max(total)} ms`
  );
}

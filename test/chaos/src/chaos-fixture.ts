import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkHealth } from '@scoregate/rpc';
import { freePort, startStack, type RunningStack, type ServiceName } from '@scoregate/stack';

export const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const e2eCatalogue = join(repoRoot, 'test/e2e/fixtures/e2e-catalogue.json');
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A service process started by the test itself (beside the stack). */
export interface ExtraProcess {
  readonly address: string;
  readonly process: ChildProcess;
  readonly exited: Promise<number | string>;
  readonly output: string[];
  stop(): Promise<void>;
}

/** Starts `apps/<app>/dist/main.js` on a free port and waits for health SERVING. */
export async function startProcess(
  app: 'gateway' | 'scoring-service',
  env: Record<string, string>,
): Promise<ExtraProcess> {
  const port = await freePort();
  const prefix = app === 'gateway' ? 'GATEWAY' : 'SCORING_SERVICE';
  const output: string[] = [];
  const child = spawn(
    process.execPath,
    ['--import', '@scoregate/telemetry/register', join(repoRoot, 'apps', app, 'dist', 'main.js')],
    {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        OTEL_SERVICE_NAME: app,
        LOG_LEVEL: 'warn',
        [`${prefix}_HOST`]: '127.0.0.1',
        [`${prefix}_PORT`]: String(port),
        ...env,
      },
    },
  );
  for (const stream of [child.stdout, child.stderr])
    stream.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  const address = `127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGCONT');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${app} exited early:\n${output.join('')}`);
    try {
      if ((await checkHealth(address, '', 500)) === 'SERVING') break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${app} was not SERVING in time:\n${output.join('')}`);
    }
    await sleep(100);
  }
  return { address, process: child, exited, output, stop };
}

/** The stack of five services on free ports, with the e2e catalogue in a fresh registry. */
export async function startChaosStack(): Promise<RunningStack & { dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'scoregate-chaos-'));
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
      'registry-service': {
        REGISTRY_CATALOGUE_FILE: e2eCatalogue,
        REGISTRY_DATA_DIR: join(dir, 'registry'),
      },
      'scoring-service': { SCORING_CACHE_DIR: join(dir, 'scoring-cache') },
    },
    readyTimeoutMs: 90_000,
  });
  return { ...stack, dir };
}

/** Latency percentile (0..1) of `samples` in ms. */
export function percentile(samples: readonly number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;
}

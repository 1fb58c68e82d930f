import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { checkHealth } from '@scoregate/rpc';
import { freePort } from '@scoregate/stack';

export const root = join(import.meta.dirname, '../../..');
export const fixtures = join(root, 'tools/models/fixtures');

export interface ServiceProcess {
  readonly address: string;
  readonly process: ChildProcess;
  /** Every line the process printed so far. */
  readonly output: string[];
  /** SIGTERM, then SIGKILL after 10 s; resolves with the exit code or signal. */
  stop(): Promise<number | string>;
}

/**
 * Starts one service from its build (`apps/<name>/dist/main.js`) the way the stack does (the
 * OpenTelemetry hook first) on a free port, and waits until its health says SERVING.
 */
export async function startService(
  name: 'scoring-service' | 'registry-service',
  env: Record<string, string>,
  readyTimeoutMs = 30_000,
): Promise<ServiceProcess> {
  const entry = join(root, 'apps', name, 'dist', 'main.js');
  if (!existsSync(entry))
    throw new Error(`${entry} does not exist: build first (npx nx run-many -t build)`);
  const port = await freePort();
  const prefix = name === 'scoring-service' ? 'SCORING_SERVICE' : 'REGISTRY_SERVICE';
  const child = spawn(process.execPath, ['--import', '@scoregate/telemetry/register', entry], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      OTEL_SERVICE_NAME: name,
      [`${prefix}_HOST`]: '127.0.0.1',
      [`${prefix}_PORT`]: String(port),
      ...env,
    },
  });
  const output: string[] = [];
  for (const stream of [child.stdout, child.stderr])
    createInterface({ input: stream }).on('line', (line) => output.push(line));
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  const address = `127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`${name} exited (${child.exitCode}) before SERVING:\n${output.join('\n')}`);
    }
    try {
      if ((await checkHealth(address, '', 500)) === 'SERVING') break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${name} was not SERVING in time:\n${output.join('\n')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { address, process: child, output, stop };
}

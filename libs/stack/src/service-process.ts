import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';

import { checkHealth, freePort, type TlsOptions } from '@scoregate/rpc';
import { withHeapBounds } from './heap-bounds.js';
import { serviceTls } from './service-tls.js';
import { SERVICES, type ServiceName } from './services.js';

export const defaultRoot = fileURLToPath(new URL('../../..', import.meta.url));

/** How many of a service's last output lines an error about it quotes. */
const QUOTED_LINES = 20;

export interface ServiceOptions {
  readonly name: ServiceName;
  /** Port on 127.0.0.1 (or `host`); 0 picks a free one. */
  readonly port: number;
  /** Interface to listen on. Default 127.0.0.1. */
  readonly host?: string;
  /** Environment on top of the launcher's: the service's own variables, its peers' addresses. */
  readonly env?: Readonly<Record<string, string>>;
  /** Each line the service prints. */
  readonly onOutput?: (line: string) => void;
  /** How long to wait for it to report SERVING. Default 30 s. */
  readonly readyTimeoutMs?: number;
  /** The repository root (where apps/<service>/dist lives). */
  readonly root?: string;
  /** The file under apps/<service>/dist to run. Default main.js. */
  readonly entry?: string;
  /** How to reach its port (readiness checks, `tls` of the result). Default: from `env`. */
  readonly tls?: TlsOptions;
}

export interface RunningService {
  readonly name: ServiceName;
  readonly address: string;
  /** What a health check or client of this service's port needs (absent: plaintext). */
  readonly tls?: TlsOptions;
  readonly process: ChildProcess;
  /** Resolves with the exit code (or the signal name) once the process ended. */
  readonly exited: Promise<number | string>;
  /** The last lines it printed (standard output and error), oldest first. */
  lastLines(): readonly string[];
  /** SIGTERM if it still runs (SIGKILL after 15 s); resolves with how it exited. */
  stop(): Promise<number | string>;
}

/**
 * Starts one service as a process, as {@link startStack} starts each (OpenTelemetry hook first,
 * V8 heap bounded, listening on 127.0.0.1), and waits until it answers health SERVING; if it exits or is not
 * SERVING in time it is stopped and the error quotes the last lines it printed.
 */
export async function startService(options: ServiceOptions): Promise<RunningService> {
  const port = options.port === 0 ? await freePort() : options.port;
  const running = spawnService({ ...options, port });
  try {
    await waitUntilServing(running, Date.now() + (options.readyTimeoutMs ?? 30_000));
  } catch (error) {
    await stopAll({ [options.name]: running });
    throw error;
  }
  return running;
}

/**
 * Spawns the service's process on `host:port` with `env` on top of the launcher's environment,
 * without waiting for it: for a process without health, such as the feature ingestor
 * (`entry: 'ingest-main.js'`), or one whose start is expected to fail.
 */
export function spawnService(options: Omit<ServiceOptions, 'readyTimeoutMs'>): RunningService {
  const { name, port, host = '127.0.0.1', root = defaultRoot } = options;
  const service = SERVICES.find((s) => s.name === name)!;
  const entry = join(root, 'apps', name, 'dist', options.entry ?? 'main.js');
  if (!existsSync(entry)) {
    throw new Error(`${entry} does not exist: build first (npx nx run-many -t build)`);
  }
  const env = {
    ...process.env,
    OTEL_SERVICE_NAME: name,
    [`${service.envPrefix}_HOST`]: host,
    [`${service.envPrefix}_PORT`]: String(port),
    ...options.env,
  };
  env['NODE_OPTIONS'] = withHeapBounds(env['NODE_OPTIONS']);
  const child = spawn(process.execPath, ['--import', '@scoregate/telemetry/register', entry], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  const lastLines: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      lastLines.push(line);
      if (lastLines.length > QUOTED_LINES) lastLines.shift();
      options.onOutput?.(line);
    });
  }
  // 'close', not 'exit': by then every line the process printed has been read.
  const exited = new Promise<number | string>((resolve) =>
    child.once('close', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  const tls = options.tls ?? serviceTls(name, env);
  return {
    name,
    address: `${host}:${port}`,
    ...(tls ? { tls } : {}),
    process: child,
    exited,
    lastLines: () => [...lastLines],
    stop: () => stopProcess(child, exited),
  };
}

async function stopProcess(
  child: ChildProcess,
  exited: Promise<number | string>,
): Promise<number | string> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Resolves once the service answers health SERVING; rejects, quoting the last lines it printed,
 * when it exits first or `deadline` passes.
 */
export async function waitUntilServing(service: RunningService, deadline: number): Promise<void> {
  let exitedWith: number | string | undefined;
  void service.exited.then((code) => (exitedWith = code));
  const failure = (reason: string) =>
    new Error(`${service.name} ${reason}; it printed:\n${service.lastLines().join('\n')}`);
  for (;;) {
    if (exitedWith !== undefined) throw failure(`exited (${exitedWith}) before it was SERVING`);
    let last: string;
    try {
      last = await checkHealth(service.address, '', 500, service.tls);
      if (last === 'SERVING') return;
    } catch (error) {
      // not listening yet (or, with TLS, refusing the certificate)
      last = (error as Error).message;
    }
    if (Date.now() > deadline)
      throw failure(
        `was not SERVING on ${service.address}${service.tls ? ' (TLS)' : ''} in time (last: ${last})`,
      );
    await sleep(100);
  }
}

/** Stops every service at once; resolves with each exit code. */
export async function stopAll(
  services: Partial<Record<ServiceName, RunningService>>,
): Promise<Record<ServiceName, number | string>> {
  const codes = {} as Record<ServiceName, number | string>;
  await Promise.all(
    Object.values(services).map(async (service) => {
      codes[service.name] = await service.stop();
    }),
  );
  return codes;
}

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { MUTUAL_TLS_VARIABLES, checkHealth, freePort, type TlsOptions } from '@scoregate/rpc';
import { SERVICES, type ServiceName } from './services.js';

export interface StackOptions {
  /** Port per service; 0 picks a free one. Default: the fixed default ports. */
  readonly ports?: Partial<Record<ServiceName, number>>;
  /**
   * Extra environment for every service (e.g. OTEL_* or SCOREGATE_TRACES_FILE). With
   * SCOREGATE_TLS_CA / _CERT / _KEY (here or in the launcher's environment) the services talk mTLS
   * to each other, and the readiness checks present that certificate too.
   */
  readonly env?: Readonly<Record<string, string>>;
  /** Extra environment for one service. */
  readonly serviceEnv?: Partial<Record<ServiceName, Readonly<Record<string, string>>>>;
  /** Each line a service prints. */
  readonly onOutput?: (service: ServiceName, line: string) => void;
  /** How long to wait for every service to report SERVING. Default 30 s. */
  readonly readyTimeoutMs?: number;
  /** The repository root (where apps/<service>/dist lives). */
  readonly root?: string;
}

export interface RunningService {
  readonly name: ServiceName;
  readonly address: string;
  /** What a health check or client of this service's port needs (absent: plaintext). */
  readonly tls?: TlsOptions;
  readonly process: ChildProcess;
  /** Resolves with the exit code (or the signal name) once the process ended. */
  readonly exited: Promise<number | string>;
}

export interface RunningStack {
  readonly services: Readonly<Record<ServiceName, RunningService>>;
  /** Client options with the services' certificate when mTLS between services is on. */
  readonly tls?: TlsOptions;
  address(service: ServiceName): string;
  /** SIGTERM to every service; resolves with each exit code. */
  stop(): Promise<Record<ServiceName, number | string>>;
}

const defaultRoot = fileURLToPath(new URL('../../..', import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts the five services as separate Node processes (each with the OpenTelemetry hook loaded
 * first), wired to each other on 127.0.0.1, tier by tier, and waits until every one answers
 * health SERVING.
 */
export interface ServiceOptions {
  readonly name: ServiceName;
  /** Port on 127.0.0.1; 0 picks a free one. */
  readonly port: number;
  /** Environment on top of the launcher's: the service's own variables, its peers' addresses. */
  readonly env?: Readonly<Record<string, string>>;
  /** Each line the service prints. */
  readonly onOutput?: (line: string) => void;
  /** How long to wait for it to report SERVING. Default 30 s. */
  readonly readyTimeoutMs?: number;
  /** The repository root (where apps/<service>/dist lives). */
  readonly root?: string;
}

/**
 * Starts one service as a process, as {@link startStack} starts each (OpenTelemetry hook first,
 * listening on 127.0.0.1), and waits until it answers health SERVING; if it exits or is not
 * SERVING in time it is stopped and the error quotes the last lines it printed.
 */
export async function startService(options: ServiceOptions): Promise<RunningService> {
  const port = options.port === 0 ? await freePort() : options.port;
  const lastLines: string[] = [];
  const running = spawnService(
    options.root ?? defaultRoot,
    options.name,
    port,
    options.env ?? {},
    (line) => {
      lastLines.push(line);
      if (lastLines.length > 20) lastLines.shift();
      options.onOutput?.(line);
    },
  );
  try {
    await waitUntilServing(running, Date.now() + (options.readyTimeoutMs ?? 30_000));
  } catch (error) {
    await stopAll({ [options.name]: running });
    throw new Error(`${(error as Error).message}; it printed:\n${lastLines.join('\n')}`, {
      cause: error,
    });
  }
  return running;
}

/** Spawns the service's process on `port` with `env` on top of the launcher's environment. */
function spawnService(
  root: string,
  name: ServiceName,
  port: number,
  extraEnv: Readonly<Record<string, string>>,
  onLine: (line: string) => void,
): RunningService {
  const service = SERVICES.find((s) => s.name === name)!;
  const entry = join(root, 'apps', name, 'dist', 'main.js');
  if (!existsSync(entry)) {
    throw new Error(`${entry} does not exist: build first (npx nx run-many -t build)`);
  }
  const env = {
    ...process.env,
    OTEL_SERVICE_NAME: name,
    [`${service.envPrefix}_HOST`]: '127.0.0.1',
    [`${service.envPrefix}_PORT`]: String(port),
    ...extraEnv,
  };
  const child = spawn(process.execPath, ['--import', '@scoregate/telemetry/register', entry], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', onLine);
  }
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  const tls = serviceTls(name, env);
  return { name, address: `127.0.0.1:${port}`, ...(tls ? { tls } : {}), process: child, exited };
}

export async function startStack(options: StackOptions = {}): Promise<RunningStack> {
  const root = options.root ?? defaultRoot;
  const ports = {} as Record<ServiceName, number>;
  for (const service of SERVICES) {
    const wanted = options.ports?.[service.name] ?? service.defaultPort;
    ports[service.name] = wanted === 0 ? await freePort() : wanted;
  }
  const address = (name: ServiceName) => `127.0.0.1:${ports[name]}`;
  const wiring: Record<string, string> = {
    FEATURE_SERVICE_ADDRESS: address('feature-service'),
    SCORING_SERVICE_ADDRESS: address('scoring-service'),
    REGISTRY_SERVICE_ADDRESS: address('registry-service'),
    // scoring-service follows the registry for which model versions to serve.
    SCORING_REGISTRY_ADDRESS: address('registry-service'),
  };

  const services = {} as Record<ServiceName, RunningService>;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  const tiers = [...new Set(SERVICES.map((s) => s.tier))].sort();
  try {
    for (const tier of tiers) {
      const starting = SERVICES.filter((s) => s.tier === tier).map((service) => {
        const running = spawnService(
          root,
          service.name,
          ports[service.name],
          {
            ...wiring,
            ...options.env,
            ...options.serviceEnv?.[service.name],
          },
          (line) => options.onOutput?.(service.name, line),
        );
        services[service.name] = running;
        return running;
      });
      await Promise.all(starting.map((service) => waitUntilServing(service, deadline)));
    }
  } catch (error) {
    await stopAll(services);
    throw error;
  }
  const tls = mutualTlsClient({ ...process.env, ...options.env });
  return { services, address, ...(tls ? { tls } : {}), stop: () => stopAll(services) };
}

type Environment = Readonly<Record<string, string | undefined>>;

/** The client side of mTLS between services, when all of SCOREGATE_TLS_* are set. */
function mutualTlsClient(env: Environment): TlsOptions | undefined {
  const [caFile, certFile, keyFile] = MUTUAL_TLS_VARIABLES.map((name) => env[name]?.trim());
  // Half a configuration: the service itself refuses to start and says why (exit 78).
  return caFile && certFile && keyFile ? { caFile, certFile, keyFile } : undefined;
}

/**
 * How to reach a service's port from the environment the stack runs in (the stack's readiness
 * checks, the CLI). The services behind the gateway serve mTLS when SCOREGATE_TLS_*
 * are set. The gateway's public port serves TLS when GATEWAY_TLS_CERT is set; it is then checked
 * like the gateway's own warm-up calls, trusting SCOREGATE_TLS_CA with the services' certificate.
 */
export function serviceTls(name: ServiceName, env: Environment): TlsOptions | undefined {
  const internal = mutualTlsClient(env);
  if (name !== 'gateway') return internal;
  if (!env['GATEWAY_TLS_CERT']?.trim()) return undefined;
  return internal ?? {};
}

async function waitUntilServing(service: RunningService, deadline: number): Promise<void> {
  let exitedWith: number | string | undefined;
  void service.exited.then((code) => (exitedWith = code));
  for (;;) {
    if (exitedWith !== undefined)
      throw new Error(`${service.name} exited (${exitedWith}) before it was SERVING`);
    let last: string;
    try {
      last = await checkHealth(service.address, '', 500, service.tls);
      if (last === 'SERVING') return;
    } catch (error) {
      // not listening yet (or, with TLS, refusing the certificate)
      last = (error as Error).message;
    }
    if (Date.now() > deadline)
      throw new Error(
        `${service.name} was not SERVING on ${service.address}${service.tls ? ' (TLS)' : ''} in time (last: ${last})`,
      );
    await sleep(100);
  }
}

async function stopAll(
  services: Partial<Record<ServiceName, RunningService>>,
): Promise<Record<ServiceName, number | string>> {
  const codes = {} as Record<ServiceName, number | string>;
  await Promise.all(
    Object.values(services).map(async (service) => {
      if (service.process.exitCode === null && service.process.signalCode === null)
        service.process.kill('SIGTERM');
      const timer = setTimeout(() => service.process.kill('SIGKILL'), 15_000);
      codes[service.name] = await service.exited;
      clearTimeout(timer);
    }),
  );
  return codes;
}

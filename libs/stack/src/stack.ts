import { freePort, type TlsOptions } from '@scoregate/rpc';
import {
  defaultRoot,
  spawnService,
  stopAll,
  waitUntilServing,
  type RunningService,
} from './service-process.js';
import { mutualTlsClient, type Environment } from './service-tls.js';
import { SERVICES, type ServiceName } from './services.js';

export interface StackOptions {
  /**
   * Port per service; 0 picks a free one. Default: the service's `<PREFIX>_PORT` in the
   * environment (e.g. GATEWAY_PORT), else its fixed default port.
   */
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

export interface RunningStack {
  readonly services: Readonly<Record<ServiceName, RunningService>>;
  /** Client options with the services' certificate when mTLS between services is on. */
  readonly tls?: TlsOptions;
  address(service: ServiceName): string;
  /** SIGTERM to every service; resolves with each exit code. */
  stop(): Promise<Record<ServiceName, number | string>>;
}

/**
 * Starts the five services as separate Node processes (each with the OpenTelemetry hook loaded
 * first), wired to each other, tier by tier, and waits until every one answers health SERVING.
 * A service that fails to start stops the others; the error quotes the last lines it printed.
 */
export async function startStack(options: StackOptions = {}): Promise<RunningStack> {
  const env: Environment = { ...process.env, ...options.env };
  const listen = await listenAddresses(env, options.ports ?? {});
  const address = (name: ServiceName) => `${listen[name].host}:${listen[name].port}`;
  const services = {} as Record<ServiceName, RunningService>;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  const tiers = [...new Set(SERVICES.map((s) => s.tier))].sort();
  try {
    for (const tier of tiers) {
      const starting = SERVICES.filter((s) => s.tier === tier).map((service) => {
        const running = spawnService({
          root: options.root ?? defaultRoot,
          name: service.name,
          ...listen[service.name],
          env: {
            ...peerWiring(env, address),
            ...options.env,
            ...options.serviceEnv?.[service.name],
          },
          onOutput: (line) => options.onOutput?.(service.name, line),
        });
        services[service.name] = running;
        return running;
      });
      await Promise.all(starting.map((service) => waitUntilServing(service, deadline)));
    }
  } catch (error) {
    await stopAll(services);
    throw error;
  }
  const tls = mutualTlsClient(env);
  return { services, address, ...(tls ? { tls } : {}), stop: () => stopAll(services) };
}

/**
 * Where each service listens: the port given, else `<PREFIX>_PORT` and `<PREFIX>_HOST` of the
 * environment (as each service reads them), else its default port on 127.0.0.1.
 */
async function listenAddresses(
  env: Environment,
  ports: Partial<Record<ServiceName, number>>,
): Promise<Record<ServiceName, { host: string; port: number }>> {
  const listen = {} as Record<ServiceName, { host: string; port: number }>;
  for (const service of SERVICES) {
    const fromEnv = env[`${service.envPrefix}_PORT`]?.trim();
    const wanted = ports[service.name] ?? (fromEnv ? Number(fromEnv) : service.defaultPort);
    listen[service.name] = {
      host: env[`${service.envPrefix}_HOST`]?.trim() || '127.0.0.1',
      port: wanted === 0 ? await freePort() : wanted,
    };
  }
  return listen;
}

/**
 * The addresses the services call each other on, pointing at this stack's services; one the
 * environment sets already (e.g. FEATURE_SERVICE_ADDRESS) is left as it is.
 */
function peerWiring(
  env: Environment,
  address: (name: ServiceName) => string,
): Record<string, string> {
  const wiring: Record<string, string> = {
    FEATURE_SERVICE_ADDRESS: address('feature-service'),
    SCORING_SERVICE_ADDRESS: address('scoring-service'),
    REGISTRY_SERVICE_ADDRESS: address('registry-service'),
    // scoring-service follows the registry for which model versions to serve.
    SCORING_REGISTRY_ADDRESS: address('registry-service'),
  };
  for (const name of Object.keys(wiring)) if (env[name]?.trim()) delete wiring[name];
  return wiring;
}

import { Code, checkHealth, type TlsOptions } from '@scoregate/rpc';
import { SERVICES, mutualTlsClient } from '@scoregate/stack';
import { tlsTo } from './tls.js';

export interface HealthOptions {
  /** `host:port` of one server; absent: every service on its default port. */
  readonly address?: string;
  /** The service to ask about at `address` ('' or absent: the whole server). */
  readonly service?: string;
  readonly timeoutMs?: number;
}

interface Check {
  readonly label: string;
  readonly address: string;
  readonly service: string;
  readonly tls?: TlsOptions;
}

/**
 * `scoregate health`: asks grpc.health.v1 Check of every service on its default port, or of one
 * server with `--address` (for `--service`, or the whole server). Prints one line per check;
 * resolves with the exit code: 0 when every answer is SERVING, 1 otherwise, 2 for bad options.
 */
export async function checkServices(options: HealthOptions = {}): Promise<number> {
  if (options.service !== undefined && options.address === undefined) {
    console.error('error: --service needs --address (the server to ask)');
    return 2;
  }
  let unhealthy = 0;
  for (const check of checksFor(options)) {
    const status = await checkHealth(
      check.address,
      check.service,
      options.timeoutMs ?? 1_000,
      check.tls,
    ).catch((error: { code?: number; message: string }) =>
      error.code === Code.NOT_FOUND
        ? `NOT_FOUND (the server has no service "${check.service}")`
        : `unreachable (${error.message})`,
    );
    if (status !== 'SERVING') unhealthy++;
    console.log(`${check.label.padEnd(17)} ${check.address}  ${status}`);
  }
  return unhealthy === 0 ? 0 : 1;
}

function checksFor(options: HealthOptions): Check[] {
  if (options.address !== undefined) {
    // One server of any kind: mTLS when the environment has the services' certificate.
    const tls = mutualTlsClient(process.env);
    const service = options.service ?? '';
    return [
      { label: service || '(server)', address: options.address, service, ...(tls ? { tls } : {}) },
    ];
  }
  return SERVICES.map((service) => ({
    label: service.name,
    address: `127.0.0.1:${service.defaultPort}`,
    service: '',
    ...tlsTo(service.name),
  }));
}

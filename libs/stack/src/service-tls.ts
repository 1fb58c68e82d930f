import { MUTUAL_TLS_VARIABLES, type TlsOptions } from '@scoregate/rpc';
import type { ServiceName } from './services.js';

export type Environment = Readonly<Record<string, string | undefined>>;

/** The client side of mTLS between services, when all of SCOREGATE_TLS_* are set. */
export function mutualTlsClient(env: Environment): TlsOptions | undefined {
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

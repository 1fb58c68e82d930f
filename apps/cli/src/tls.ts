import type { TlsOptions } from '@scoregate/rpc';
import { serviceTls, type ServiceName } from '@scoregate/stack';

/**
 * How the CLI reaches a service, from the same environment the stack runs with: with
 * SCOREGATE_TLS_CA/CERT/KEY set it presents that certificate to the services behind the gateway
 * (mTLS); the gateway's public port is TLS when GATEWAY_TLS_CERT is set. Plaintext otherwise.
 */
export function tlsTo(service: ServiceName): { tls?: TlsOptions } {
  const tls = serviceTls(service, process.env);
  return tls ? { tls } : {};
}

import { mutualTls, type MutualTls, type MutualTlsSettings, type TlsOptions } from '@scoregate/rpc';

/**
 * TLS of the gateway's public port: GATEWAY_TLS_CERT + GATEWAY_TLS_KEY, and GATEWAY_TLS_CLIENT_CA
 * to require client certificates signed by that CA (mTLS). Plaintext when none is set.
 */
export function publicTls(config: {
  GATEWAY_TLS_CERT?: string | undefined;
  GATEWAY_TLS_KEY?: string | undefined;
  GATEWAY_TLS_CLIENT_CA?: string | undefined;
}): TlsOptions | undefined {
  const { GATEWAY_TLS_CERT: cert, GATEWAY_TLS_KEY: key, GATEWAY_TLS_CLIENT_CA: ca } = config;
  if (!cert && !key && !ca) return undefined;
  if (!cert || !key) throw new Error('GATEWAY_TLS_CERT and GATEWAY_TLS_KEY go together');
  return { certFile: cert, keyFile: key, ...(ca ? { caFile: ca } : {}) };
}

/**
 * mTLS to the services behind, from the stack-wide SCOREGATE_TLS_CA / SCOREGATE_TLS_CERT /
 * SCOREGATE_TLS_KEY (see `mutualTls` in @scoregate/rpc): all three or none. `server` requires
 * client certificates from the CA; `client` trusts the CA and presents the certificate. Throws a
 * ConfigError naming every variable at fault.
 */
export function internalTls(config: MutualTlsSettings): MutualTls | undefined {
  return mutualTls('gateway', config);
}

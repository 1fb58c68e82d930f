import type { TlsOptions } from '@scoregate/rpc';

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
 * mTLS between services: SCOREGATE_TLS_CA (the CA that signs every service), SCOREGATE_TLS_CERT
 * and SCOREGATE_TLS_KEY (this service's certificate, used both to serve and as client
 * certificate). All three or none. `server` requires client certificates from the CA; `client`
 * trusts the CA and presents the certificate.
 */
export function internalTls(config: {
  SCOREGATE_TLS_CA?: string | undefined;
  SCOREGATE_TLS_CERT?: string | undefined;
  SCOREGATE_TLS_KEY?: string | undefined;
}): { server: TlsOptions; client: TlsOptions } | undefined {
  const { SCOREGATE_TLS_CA: ca, SCOREGATE_TLS_CERT: cert, SCOREGATE_TLS_KEY: key } = config;
  if (!ca && !cert && !key) return undefined;
  if (!ca || !cert || !key)
    throw new Error('SCOREGATE_TLS_CA, SCOREGATE_TLS_CERT and SCOREGATE_TLS_KEY go together');
  const pair = { caFile: ca, certFile: cert, keyFile: key };
  return { server: pair, client: pair };
}

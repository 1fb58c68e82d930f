import { env } from '@scoregate/config';
import { mutualTlsEnv } from '@scoregate/rpc';

/** Environment variables of gateway security (spread into the gateway's config). */
export const securityConfig = {
  /** JSON file of tenants, API key hashes, JWT issuers and scorer scopes. Unset: auth off. */
  GATEWAY_AUTH_FILE: env.optionalString(),
  /** PEM certificate chain and key of the public port. Unset: plaintext. */
  GATEWAY_TLS_CERT: env.optionalString(),
  GATEWAY_TLS_KEY: env.optionalString(),
  /** PEM CA: clients of the public port must present a certificate it signed (mTLS). */
  GATEWAY_TLS_CLIENT_CA: env.optionalString(),
  /** mTLS between services (SCOREGATE_TLS_CA/CERT/KEY): each, when set, a readable PEM file. */
  ...mutualTlsEnv,
};

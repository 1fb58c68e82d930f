import { createHash, randomBytes } from 'node:crypto';
import type { ServerInterceptor, TlsOptions } from '@scoregate/rpc';
import { loadAuthFile, type TenantSettings } from './auth-file.js';
import { createAuthenticator } from './authenticator.js';
import { createAuthInterceptor, type AuthLogger } from './interceptor.js';
import { internalTls, publicTls } from './tls.js';

type SecurityEnvironment = Partial<
  Record<
    | 'GATEWAY_AUTH_FILE'
    | 'GATEWAY_TLS_CERT'
    | 'GATEWAY_TLS_KEY'
    | 'GATEWAY_TLS_CLIENT_CA'
    | 'SCOREGATE_TLS_CA'
    | 'SCOREGATE_TLS_CERT'
    | 'SCOREGATE_TLS_KEY',
    string | undefined
  >
>;

export interface GatewaySecurity {
  /** Interceptors of the public server (authentication when GATEWAY_AUTH_FILE is set). */
  readonly interceptors: readonly ServerInterceptor[];
  /** Server options: TLS of the public port, when configured. */
  readonly server: { tls?: TlsOptions };
  /** Client options for calls to the services behind: mTLS, when configured. */
  readonly client: { tls?: TlsOptions };
  /**
   * Client options for the gateway's calls to its own port (warm-up): a process-local API key
   * (tenant `scoregate-internal`, every scorer; generated at start, never stored) when auth is
   * on, and the internal mTLS material (SCOREGATE_TLS_*) when the public port serves TLS.
   */
  readonly self: { headers?: Record<string, string>; tls?: TlsOptions };
}

/** The tenant of the gateway's own warm-up calls. */
export const INTERNAL_TENANT = 'scoregate-internal';

/**
 * Reads the security settings of the gateway and logs what is on. Throws (the gateway does not
 * start) when a file is missing or invalid.
 */
export function gatewaySecurity(
  config: SecurityEnvironment,
  logger: AuthLogger & { info(object: object, message?: string): void },
): GatewaySecurity {
  const interceptors: ServerInterceptor[] = [];
  let selfKey: string | undefined;
  if (config.GATEWAY_AUTH_FILE) {
    const settings = loadAuthFile(config.GATEWAY_AUTH_FILE);
    if (settings.tenants.has(INTERNAL_TENANT))
      throw new Error(`GATEWAY_AUTH_FILE: the tenant id ${INTERNAL_TENANT} is reserved`);
    selfKey = randomBytes(32).toString('base64url');
    const sha256 = createHash('sha256').update(selfKey).digest('hex');
    (settings.tenants as Map<string, TenantSettings>).set(INTERNAL_TENANT, {
      scorers: ['*'],
      apiKeys: [{ id: 'warm-up', sha256 }],
    });
    interceptors.push(
      createAuthInterceptor({ authenticator: createAuthenticator(settings), logger }),
    );
    logger.info(
      { authFile: config.GATEWAY_AUTH_FILE, tenants: [...settings.tenants.keys()] },
      'authentication ON: every Score call needs an API key or a JWT of a tenant',
    );
  } else {
    logger.warn(
      { authFile: null },
      'authentication OFF (GATEWAY_AUTH_FILE not set): any caller may call any scorer',
    );
  }
  const tls = publicTls(config);
  const internal = internalTls(config);
  logger.info(
    {
      publicTls: tls ? (tls.caFile ? 'mtls' : 'tls') : 'off',
      internalTls: internal ? 'mtls' : 'off',
    },
    `public port ${tls ? (tls.caFile ? 'TLS with client certificates' : 'TLS') : 'plaintext'}; services behind ${internal ? 'mTLS' : 'plaintext'}`,
  );
  return {
    interceptors,
    server: tls ? { tls } : {},
    client: internal ? { tls: internal.client } : {},
    self: {
      ...(selfKey ? { headers: { 'x-api-key': selfKey } } : {}),
      ...(tls && internal ? { tls: internal.client } : {}),
    },
  };
}

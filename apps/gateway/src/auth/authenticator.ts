import { createHash } from 'node:crypto';
import {
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { Code, RpcError } from '@scoregate/rpc';
import type { AuthSettings, TenantSettings } from './auth-file.js';
import { compileScope, type ScorerScope } from './scopes.js';

/** Who is calling: the tenant, the credential, and the scorers it may call. */
export interface Principal {
  readonly tenant: string;
  /** `apikey:<id>` or `jwt:<sub>`: names the credential in logs, never the secret. */
  readonly credential: string;
  readonly mayCall: ScorerScope;
}

export interface Authenticator {
  /** Reads the credential from request headers; throws UNAUTHENTICATED when it does not hold. */
  authenticate(headers: ReadonlyMap<string, string | Buffer>): Promise<Principal>;
}

const HOW =
  "send 'authorization: Bearer <jwt>', 'authorization: ApiKey <key>' or 'x-api-key: <key>'";
const JWKS_ALGORITHMS = ['RS256', 'ES256'];

const unauthenticated = (message: string) => new RpcError(Code.UNAUTHENTICATED, message);

interface JwtTenant {
  readonly tenant: string;
  readonly settings: NonNullable<TenantSettings['jwt']>;
  readonly scope: ScorerScope;
  readonly jwks?: JWTVerifyGetKey;
}

export function createAuthenticator(settings: AuthSettings): Authenticator {
  const keys = new Map<string, Principal>();
  const issuers = new Map<string, JwtTenant>();
  for (const [tenant, config] of settings.tenants) {
    for (const key of config.apiKeys) {
      keys.set(key.sha256, {
        tenant,
        credential: `apikey:${key.id}`,
        mayCall: compileScope(key.scorers ?? config.scorers),
      });
    }
    if (config.jwt) {
      issuers.set(config.jwt.issuer, {
        tenant,
        settings: config.jwt,
        scope: compileScope(config.jwt.scorers ?? config.scorers),
        ...(config.jwt.jwks
          ? { jwks: createLocalJWKSet(config.jwt.jwks as Parameters<typeof createLocalJWKSet>[0]) }
          : {}),
      });
    }
  }

  function byApiKey(key: string): Principal {
    if (!/^[\x21-\x7e]{8,512}$/u.test(key))
      throw unauthenticated('malformed API key: expected 8 to 512 printable ASCII characters');
    const hash = createHash('sha256').update(key).digest('hex');
    const principal = keys.get(hash);
    if (!principal)
      throw unauthenticated(`unknown API key (fingerprint sha256:${hash.slice(0, 8)})`);
    return principal;
  }

  async function byJwt(token: string): Promise<Principal> {
    let claims: JWTPayload;
    let alg: string | undefined;
    try {
      claims = decodeJwt(token);
      alg = decodeProtectedHeader(token).alg;
    } catch (error) {
      throw unauthenticated(`malformed JWT: ${(error as Error).message}`);
    }
    if (typeof claims.iss !== 'string')
      throw unauthenticated('JWT has no "iss" claim naming a trusted issuer');
    const issuer = issuers.get(claims.iss);
    if (!issuer) throw unauthenticated(`JWT issuer "${claims.iss}" is not trusted`);
    const { settings } = issuer;
    const options = {
      issuer: settings.issuer,
      audience: settings.audience,
      clockTolerance: settings.clockToleranceSeconds,
      requiredClaims: ['exp'],
    };
    let payload: JWTPayload;
    try {
      if (alg === 'HS256' && settings.hs256Secret) {
        ({ payload } = await jwtVerify(token, settings.hs256Secret, {
          ...options,
          algorithms: ['HS256'],
        }));
      } else if (issuer.jwks && alg !== undefined && JWKS_ALGORITHMS.includes(alg)) {
        ({ payload } = await jwtVerify(token, issuer.jwks, {
          ...options,
          algorithms: JWKS_ALGORITHMS,
        }));
      } else {
        throw unauthenticated(
          `JWT algorithm ${alg ?? '(none)'} is not accepted for issuer "${claims.iss}"`,
        );
      }
    } catch (error) {
      throw jwtError(error);
    }
    const narrowed = payload['scorers'];
    const claimScope = Array.isArray(narrowed)
      ? compileScope(narrowed.filter((s): s is string => typeof s === 'string'))
      : undefined;
    return {
      tenant: issuer.tenant,
      credential: `jwt:${typeof payload.sub === 'string' ? payload.sub : claims.iss}`,
      mayCall: claimScope ? (scorer) => issuer.scope(scorer) && claimScope(scorer) : issuer.scope,
    };
  }

  return {
    async authenticate(headers) {
      const authorization = text(headers.get('authorization'));
      const apiKey = text(headers.get('x-api-key'));
      if (authorization === undefined && apiKey === undefined)
        throw unauthenticated(`missing credentials: ${HOW}`);
      if (authorization !== undefined && apiKey !== undefined)
        throw unauthenticated('send one credential: authorization or x-api-key, not both');
      if (apiKey !== undefined) return byApiKey(apiKey.trim());
      const match = /^(\S+) +(\S+)$/u.exec(authorization?.trim() ?? '');
      const scheme = match?.[1]?.toLowerCase();
      if (match?.[2] && scheme === 'bearer') return byJwt(match[2]);
      if (match?.[2] && scheme === 'apikey') return byApiKey(match[2]);
      throw unauthenticated(`malformed authorization header: ${HOW}`);
    },
  };
}

function text(value: string | Buffer | undefined): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value.toString('latin1');
}

/** A precise UNAUTHENTICATED for a JWT that failed verification (jose never echoes the token). */
function jwtError(error: unknown): RpcError {
  if (error instanceof RpcError) return error;
  if (error instanceof errors.JWTExpired) {
    const exp = error.payload.exp;
    const when = typeof exp === 'number' ? ` at ${new Date(exp * 1000).toISOString()}` : '';
    return unauthenticated(`JWT expired${when}`);
  }
  if (error instanceof errors.JWTClaimValidationFailed)
    return unauthenticated(`JWT rejected: ${error.message}`);
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return unauthenticated('JWT signature verification failed');
  if (error instanceof errors.JWKSNoMatchingKey)
    return unauthenticated('no key of the issuer matches the JWT (kid/alg)');
  if (error instanceof errors.JOSEAlgNotAllowed)
    return unauthenticated(`JWT algorithm not accepted: ${error.message}`);
  if (error instanceof errors.JOSEError) return unauthenticated(`invalid JWT: ${error.message}`);
  return RpcError.from(error);
}

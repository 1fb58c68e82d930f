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

/** What the auth settings trust: API keys by their SHA-256, JWT issuers by their `iss`. */
interface TrustedCredentials {
  readonly keys: ReadonlyMap<string, Principal>;
  readonly issuers: ReadonlyMap<string, JwtTenant>;
}

function trustedCredentials(settings: AuthSettings): TrustedCredentials {
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
  return { keys, issuers };
}

/** Checks the credential of the call against the tenants of the auth settings. */
export function createAuthenticator(settings: AuthSettings): Authenticator {
  const trusted = trustedCredentials(settings);
  return {
    async authenticate(headers) {
      const credential = credentialOf(headers);
      return credential.scheme === 'apikey'
        ? byApiKey(trusted.keys, credential.value)
        : byJwt(trusted.issuers, credential.value);
    },
  };
}

/** The one credential the headers carry, or UNAUTHENTICATED saying how to send one. */
function credentialOf(headers: ReadonlyMap<string, string | Buffer>): {
  scheme: 'apikey' | 'jwt';
  value: string;
} {
  const authorization = text(headers.get('authorization'));
  const apiKey = text(headers.get('x-api-key'));
  if (authorization === undefined && apiKey === undefined)
    throw unauthenticated(`missing credentials: ${HOW}`);
  if (authorization !== undefined && apiKey !== undefined)
    throw unauthenticated('send one credential: authorization or x-api-key, not both');
  if (apiKey !== undefined) return { scheme: 'apikey', value: apiKey.trim() };
  const match = /^(\S+) +(\S+)$/u.exec(authorization?.trim() ?? '');
  const scheme = match?.[1]?.toLowerCase();
  if (match?.[2] && scheme === 'bearer') return { scheme: 'jwt', value: match[2] };
  if (match?.[2] && scheme === 'apikey') return { scheme: 'apikey', value: match[2] };
  throw unauthenticated(`malformed authorization header: ${HOW}`);
}

function byApiKey(keys: TrustedCredentials['keys'], key: string): Principal {
  if (!/^[\x21-\x7e]{8,512}$/u.test(key))
    throw unauthenticated('malformed API key: expected 8 to 512 printable ASCII characters');
  const hash = createHash('sha256').update(key).digest('hex');
  const principal = keys.get(hash);
  if (!principal) throw unauthenticated(`unknown API key (fingerprint sha256:${hash.slice(0, 8)})`);
  return principal;
}

/** The caller of a JWT from a trusted issuer, its scope narrowed by a `scorers` claim. */
async function byJwt(issuers: TrustedCredentials['issuers'], token: string): Promise<Principal> {
  const { claims, alg } = decodeUnverified(token);
  if (typeof claims.iss !== 'string')
    throw unauthenticated('JWT has no "iss" claim naming a trusted issuer');
  const issuer = issuers.get(claims.iss);
  if (!issuer) throw unauthenticated(`JWT issuer "${claims.iss}" is not trusted`);
  const payload = await verifyJwt(token, issuer, alg);
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

/** The claims and algorithm a JWT states, before anything about it is trusted. */
function decodeUnverified(token: string): { claims: JWTPayload; alg: string | undefined } {
  try {
    return { claims: decodeJwt(token), alg: decodeProtectedHeader(token).alg };
  } catch (error) {
    throw unauthenticated(`malformed JWT: ${(error as Error).message}`);
  }
}

/**
 * Verifies a JWT against its issuer: HS256 with the issuer's shared secret, or RS256/ES256 with
 * its JWKS; any other algorithm is refused. Checks issuer, audience and expiry (with tolerance).
 */
async function verifyJwt(
  token: string,
  issuer: JwtTenant,
  alg: string | undefined,
): Promise<JWTPayload> {
  const { settings } = issuer;
  const options = {
    issuer: settings.issuer,
    audience: settings.audience,
    clockTolerance: settings.clockToleranceSeconds,
    requiredClaims: ['exp'],
  };
  try {
    if (alg === 'HS256' && settings.hs256Secret) {
      return (await jwtVerify(token, settings.hs256Secret, { ...options, algorithms: ['HS256'] }))
        .payload;
    }
    if (issuer.jwks && alg !== undefined && JWKS_ALGORITHMS.includes(alg)) {
      return (await jwtVerify(token, issuer.jwks, { ...options, algorithms: JWKS_ALGORITHMS }))
        .payload;
    }
    throw unauthenticated(
      `JWT algorithm ${alg ?? '(none)'} is not accepted for issuer "${settings.issuer}"`,
    );
  } catch (error) {
    throw jwtError(error);
  }
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

import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  SignJWT,
  UnsecuredJWT,
  exportJWK,
  generateKeyPair,
  type CryptoKey,
  type JWTPayload,
} from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScoreService } from '@scoregate/contracts';
import {
  Code,
  RpcError,
  checkHealth,
  createRpcClient,
  createRpcServer,
  type CallContext,
  type RpcClient,
  type RpcServer,
} from '@scoregate/rpc';
import {
  INTERNAL_TENANT,
  compileScope,
  gatewaySecurity,
  createAuthInterceptor,
  createAuthenticator,
  loadAuthFile,
  parseAuthFile,
  tenantOf,
} from './index.js';

const ISSUER = 'https://idp.acme.test';
const AUDIENCE = 'scoregate';
const ROUNDS = 50;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const silent = { warn() {} };

let dir = '';
let server: RpcServer;
let client: RpcClient<typeof ScoreService>;
let address = '';
const errorLines: Record<string, unknown>[] = [];
const secret = randomBytes(32).toString('base64url');
const otherSecret = randomBytes(32).toString('base64url');
const acmeKey = `acme-${randomBytes(16).toString('hex')}`;
const narrowKey = `narrow-${randomBytes(16).toString('hex')}`;
const globexKey = `globex-${randomBytes(16).toString('hex')}`;
const unknownKey = `nobody-${randomBytes(16).toString('hex')}`;
const tokens: Record<string, string> = {};

const now = () => Math.floor(Date.now() / 1000);

async function hs256(claims: JWTPayload, key = secret, issuer = ISSUER, audience = AUDIENCE) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(issuer)
    .setAudience(audience)
    .setSubject('svc-billing')
    .sign(new TextEncoder().encode(key));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'scoregate-auth-'));
  writeFileSync(join(dir, 'acme.secret'), secret);
  const es = await generateKeyPair('ES256');
  const rs = await generateKeyPair('RS256');
  const rogue = await generateKeyPair('ES256');
  const jwks = {
    keys: [
      { ...(await exportJWK(es.publicKey)), kid: 'es-1', alg: 'ES256', use: 'sig' },
      { ...(await exportJWK(rs.publicKey)), kid: 'rs-1', alg: 'RS256', use: 'sig' },
    ],
  };
  writeFileSync(join(dir, 'acme.jwks.json'), JSON.stringify(jwks));
  writeFileSync(
    join(dir, 'auth.json'),
    JSON.stringify({
      tenants: {
        acme: {
          scorers: ['truck-roll-*'],
          apiKeys: [
            { id: 'ci', sha256: sha256(acmeKey) },
            { id: 'priority-only', sha256: sha256(narrowKey), scorers: ['truck-roll-priority'] },
          ],
          jwt: {
            issuer: ISSUER,
            audience: AUDIENCE,
            hs256SecretFile: 'acme.secret',
            jwksFile: 'acme.jwks.json',
          },
        },
        globex: { scorers: ['fraud-*'], apiKeys: [{ id: 'main', sha256: sha256(globexKey) }] },
      },
    }),
  );

  const exp = now() + 3600;
  tokens.valid = await hs256({ exp });
  tokens.expired = await hs256({ exp: now() - 3600, iat: now() - 7200 });
  tokens.notYet = await hs256({ exp, nbf: now() + 600 });
  tokens.noExp = await hs256({});
  tokens.wrongAudience = await hs256({ exp }, secret, ISSUER, 'someone-else');
  tokens.untrusted = await hs256({ exp }, secret, 'https://evil.test');
  tokens.badSignature = await hs256({ exp }, otherSecret);
  tokens.narrowed = await hs256({ exp, scorers: ['truck-roll-priority'] });
  tokens.unsigned = new UnsecuredJWT({ exp }).setIssuer(ISSUER).setAudience(AUDIENCE).encode();
  const signed = (alg: 'ES256' | 'RS256', kid: string, key: CryptoKey) =>
    new SignJWT({ exp })
      .setProtectedHeader({ alg, kid })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .sign(key);
  tokens.es256 = await signed('ES256', 'es-1', es.privateKey);
  tokens.rs256 = await signed('RS256', 'rs-1', rs.privateKey);
  tokens.es256Forged = await signed('ES256', 'es-1', rogue.privateKey);
  tokens.unknownKid = await signed('ES256', 'es-9', rogue.privateKey);

  const authenticator = createAuthenticator(loadAuthFile(join(dir, 'auth.json')));
  server = createRpcServer({
    name: 'auth-test',
    logger: {
      info() {},
      warn() {},
      error: (fields: unknown) => void errorLines.push(fields as Record<string, unknown>),
    },
    interceptors: [createAuthInterceptor({ authenticator, logger: silent })],
  });
  // A ScoreService stand-in: answers with the tenant the interceptor put on the call (and fails
  // like a bug for one scorer).
  server.register(ScoreService, {
    score: (request, context) => {
      if (request.scorer === 'truck-roll-bug') throw new Error('a bug');
      return { requestId: `${tenantOf(context)}:${request.scorer}` };
    },
    scoreBatch: (request, context) => ({ requestId: `${tenantOf(context)}:${request.scorer}` }),
  });
  address = `127.0.0.1:${await server.listen('127.0.0.1:0')}`;
  client = createRpcClient(ScoreService, { address, defaultTimeoutMs: 5_000 });
});

afterAll(async () => {
  client?.close();
  await server?.shutdown({ drainDelayMs: 0, graceMs: 1_000, flushMs: 0 });
  rmSync(dir, { recursive: true, force: true });
});

interface Case {
  readonly name: string;
  readonly headers: () => Record<string, string>;
  readonly scorer: string;
  readonly code: Code;
  /** The message (for refusals) or the tenant:scorer the stand-in answered (for OK). */
  readonly expect: RegExp;
}

const bearer = (name: string) => () => ({ authorization: `Bearer ${tokens[name]}` });

const MATRIX: readonly Case[] = [
  {
    name: 'no credential',
    headers: () => ({}),
    scorer: 'truck-roll-priority',
    code: Code.UNAUTHENTICATED,
    expect: /^missing credentials/,
  },
  {
    name: 'unknown authorization scheme',
    headers: () => ({ authorization: `Basic ${acmeKey}` }),
    scorer: 'truck-roll-priority',
    code: Code.UNAUTHENTICATED,
    expect: /^malformed authorization header/,
  },
  {
    name: 'empty bearer',
    headers: () => ({ authorization: 'Bearer' }),
    scorer: 'truck-roll-priority',
    code: Code.UNAUTHENTICATED,
    expect: /^malformed authorization header/,
  },
  {
    name: 'malformed JWT',
    headers: () => ({ authorization: 'Bearer not.a-jwt' }),
    scorer: 'truck-roll-priority',
    code: Code.UNAUTHENTICATED,
    expect: /^malformed JWT/,
  },
  {
    name: 'malformed API key',
    headers: () => ({ 'x-api-key': 'short' }),
    scorer: 'truck-roll-priority',
    code: Code.UNAUTHENTICATED,
    expect: /^malformed API key/,
  },
  {
    name: 'two credentials at once',
    headers: () => ({ 'x-api-key': acmeKey, authorization: `ApiKey ${acmeKey}` }),
    scorer: 'truck-roll-priority',
    code: Code.UNAUTHENTICATED,
    expect: /^send one credential/,
  },
  {
    name: 'expired JWT',
    headers: bearer('expired'),
    scorer: 'truck-roll-priority',
    code: Code.UNAUTHENTICATED,
    expect: /^JWT expired at \d{4}-/,
  },
  {
    name: 'JWT not valid yet (nbf)',
    headers: bearer('notYet'),
    scorer: 'truck-roll-priority',
    code: Code.UNAUTHENTICATED,
    expect: /^JWT rejected: .*"nbf"/,
  },
  {
    name: 'JWT without exp',
    headers: bearer('noExp'),
    scorer: 'truck-roll-priority',
    code: Code.UNAUTHENTICATED,
    expect: /^JWT rejected: .*"exp"/,
  },
  {
    name: 'JWT for another audience',
    headers: bearer('wrongAudience'),
    scorer: 'truck-roll-priority',
    code: Code.UNAUTHENTICATED,
    expect: /^JWT rejected: .*"aud"/,
  },
  {
    name: 'JWT from an untrusted issuer',
    headers: bearer('untrusted'),
    scorer: 'truck-roll-priority',
    code: Code.UNAUTHENTICATED,
    expect: /^JWT issuer "https:\/\/evil.test" is not trusted/,
  },
  {
    name: 'HS256 JWT with a bad signature',
    headers: bearer('badSignature'),
    scorer: 'truck-roll-priority',
    code: Code.UNAUTHENTICATED,
    expect: /^JWT signature verification failed/,
  },
  {
    name: 'ES256 JWT signed by a foreign key',
    headers: bearer('es256Forged'),
    scorer: 'truck-roll-priority',
    code: Code.UNAUTHENTICATED,
    expect: /^JWT signature verification failed/,
  },
  {
    name: 'JWT with an unknown key id',
    headers: bearer('unknownKid'),
    scorer: 'truck-roll-priority',
    code: Code.UNAUTHENTICATED,
    expect: /^no key of the issuer matches/,
  },
  {
    name: 'unsigned JWT (alg none)',
    headers: bearer('unsigned'),
    scorer: 'truck-roll-priority',
    code: Code.UNAUTHENTICATED,
    expect: /^JWT algorithm none is not accepted/,
  },
  {
    name: 'unknown API key',
    headers: () => ({ 'x-api-key': unknownKey }),
    scorer: 'truck-roll-priority',
    code: Code.UNAUTHENTICATED,
    expect: /^unknown API key \(fingerprint sha256:[0-9a-f]{8}\)$/,
  },
  {
    name: 'wrong tenant: acme key, globex scorer',
    headers: () => ({ 'x-api-key': acmeKey }),
    scorer: 'fraud-check',
    code: Code.PERMISSION_DENIED,
    expect: /^tenant "acme" \(apikey:ci\) may not call scorer "fraud-check"$/,
  },
  {
    name: 'wrong tenant: globex key, acme scorer',
    headers: () => ({ authorization: `ApiKey ${globexKey}` }),
    scorer: 'truck-roll-priority',
    code: Code.PERMISSION_DENIED,
    expect: /^tenant "globex" \(apikey:main\) may not call scorer "truck-roll-priority"$/,
  },
  {
    name: 'key narrowed to one scorer, another scorer',
    headers: () => ({ 'x-api-key': narrowKey }),
    scorer: 'truck-roll-eta',
    code: Code.PERMISSION_DENIED,
    expect: /may not call scorer "truck-roll-eta"/,
  },
  {
    name: 'JWT scorers claim narrows the scope',
    headers: bearer('narrowed'),
    scorer: 'truck-roll-eta',
    code: Code.PERMISSION_DENIED,
    expect: /^tenant "acme" \(jwt:svc-billing\) may not call scorer "truck-roll-eta"$/,
  },
  {
    name: 'JWT of acme on a globex scorer',
    headers: bearer('valid'),
    scorer: 'fraud-check',
    code: Code.PERMISSION_DENIED,
    expect: /^tenant "acme" .* "fraud-check"$/,
  },
  {
    name: 'valid x-api-key',
    headers: () => ({ 'x-api-key': acmeKey }),
    scorer: 'truck-roll-priority',
    code: Code.OK,
    expect: /^acme:truck-roll-priority$/,
  },
  {
    name: 'valid ApiKey authorization',
    headers: () => ({ authorization: `ApiKey ${acmeKey}` }),
    scorer: 'truck-roll-eta',
    code: Code.OK,
    expect: /^acme:truck-roll-eta$/,
  },
  {
    name: 'valid narrowed key on its scorer',
    headers: () => ({ 'x-api-key': narrowKey }),
    scorer: 'truck-roll-priority',
    code: Code.OK,
    expect: /^acme:truck-roll-priority$/,
  },
  {
    name: 'valid globex key',
    headers: () => ({ 'x-api-key': globexKey }),
    scorer: 'fraud-check',
    code: Code.OK,
    expect: /^globex:fraud-check$/,
  },
  {
    name: 'valid HS256 JWT',
    headers: bearer('valid'),
    scorer: 'truck-roll-priority',
    code: Code.OK,
    expect: /^acme:truck-roll-priority$/,
  },
  {
    name: 'valid lower-case bearer scheme',
    headers: () => ({ authorization: `bearer ${tokens.valid}` }),
    scorer: 'truck-roll-eta',
    code: Code.OK,
    expect: /^acme:truck-roll-eta$/,
  },
  {
    name: 'valid ES256 JWT (JWKS)',
    headers: bearer('es256'),
    scorer: 'truck-roll-priority',
    code: Code.OK,
    expect: /^acme:truck-roll-priority$/,
  },
  {
    name: 'valid RS256 JWT (JWKS)',
    headers: bearer('rs256'),
    scorer: 'truck-roll-priority',
    code: Code.OK,
    expect: /^acme:truck-roll-priority$/,
  },
  {
    name: 'valid narrowed JWT on its scorer',
    headers: bearer('narrowed'),
    scorer: 'truck-roll-priority',
    code: Code.OK,
    expect: /^acme:truck-roll-priority$/,
  },
];

async function attempt(c: Case, batch = false): Promise<{ code: Code; text: string }> {
  const options = { headers: c.headers() };
  try {
    const response = batch
      ? await client.scoreBatch({ scorer: c.scorer }, options)
      : await client.score({ scorer: c.scorer }, options);
    return { code: Code.OK, text: response.requestId };
  } catch (error) {
    const rpcError = RpcError.from(error);
    return { code: rpcError.code, text: rpcError.message };
  }
}

describe('gateway authentication matrix over real gRPC', () => {
  it.each(MATRIX)('$name → $code', async (c) => {
    const outcome = await attempt(c);
    expect({ code: outcome.code, text: outcome.text }).toMatchObject({ code: c.code });
    expect(outcome.text).toMatch(c.expect);
  });

  it(`gives the expected status in 100% of ${ROUNDS} rounds of every case, Score and ScoreBatch`, async () => {
    const secrets = [secret, otherSecret, acmeKey, narrowKey, globexKey, unknownKey];
    const wrong: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const outcomes = await Promise.all(
        MATRIX.map(async (c) => ({ c, outcome: await attempt(c, round % 2 === 1) })),
      );
      for (const { c, outcome } of outcomes) {
        const leaks = secrets.some((s) => outcome.text.includes(s));
        if (outcome.code !== c.code || !c.expect.test(outcome.text) || leaks)
          wrong.push(`round ${round} ${c.name}: ${outcome.code} ${outcome.text}`);
      }
    }
    expect(wrong).toEqual([]);
  }, 60_000);

  it('writes the tenant on the error line of a call that failed with INTERNAL', async () => {
    errorLines.length = 0;
    const valid = MATRIX.find((c) => c.name === 'valid HS256 JWT')!;
    const outcome = await attempt({ ...valid, scorer: 'truck-roll-bug' });
    expect(outcome.code).toBe(Code.INTERNAL);
    expect(errorLines).toEqual([expect.objectContaining({ method: 'Score', tenant: 'acme' })]);
  });

  it('keeps health reachable without credentials', async () => {
    expect(await checkHealth(address, '', 2_000)).toBe('SERVING');
    expect(await checkHealth(address, ScoreService.typeName, 2_000)).toBe('SERVING');
  });

  it('never echoes a presented secret in the refusal', async () => {
    const token = tokens.badSignature ?? '';
    const { text } = await attempt({
      ...MATRIX[11]!,
      headers: () => ({ authorization: `Bearer ${token}` }),
    });
    expect(text).not.toContain(token.split('.')[2]);
    const unknown = await attempt(MATRIX[15]!);
    expect(unknown.text).not.toContain(unknownKey);
  });
});

describe('auth file', () => {
  it('rejects a key stored as plain text instead of its SHA-256, naming the field', () => {
    const raw = {
      tenants: { acme: { scorers: ['*'], apiKeys: [{ id: 'ci', sha256: 'secret' }] } },
    };
    expect(() => parseAuthFile(raw, dir)).toThrow(/tenants\.acme\.apiKeys\.0\.sha256/);
  });

  it('rejects a JWT issuer shared by two tenants', () => {
    const jwt = { issuer: ISSUER, audience: AUDIENCE, hs256SecretFile: 'acme.secret' };
    const raw = { tenants: { a: { scorers: ['*'], jwt }, b: { scorers: ['*'], jwt } } };
    expect(() => parseAuthFile(raw, dir)).toThrow(/issuer https:\/\/idp.acme.test used by a and b/);
  });

  it('rejects a JWT section without any key', () => {
    const raw = { tenants: { a: { scorers: ['*'], jwt: { issuer: ISSUER, audience: AUDIENCE } } } };
    expect(() => parseAuthFile(raw, dir)).toThrow(/hs256SecretFile, jwksFile or both/);
  });

  it('rejects an HS256 secret shorter than 32 bytes', () => {
    writeFileSync(join(dir, 'short.secret'), 'too-short');
    const jwt = { issuer: ISSUER, audience: AUDIENCE, hs256SecretFile: 'short.secret' };
    expect(() => parseAuthFile({ tenants: { a: { scorers: ['*'], jwt } } }, dir)).toThrow(
      /32 bytes/,
    );
  });
});

describe('scorer scopes', () => {
  it('matches a trailing wildcard, an exact name and `*`, and nothing else', () => {
    const scope = compileScope(['truck-roll-*', 'fraud-check']);
    expect(['truck-roll-priority', 'truck-roll-', 'fraud-check'].map(scope)).toEqual([
      true,
      true,
      true,
    ]);
    expect(['truck-rollx', 'fraud-check-2', 'xtruck-roll-a'].map(scope)).toEqual([
      false,
      false,
      false,
    ]);
    expect(compileScope(['*'])('anything')).toBe(true);
    expect(compileScope(['a.b'])('axb')).toBe(false);
  });
});

describe('gatewaySecurity', () => {
  const quiet = { info() {}, warn() {} };

  it('is off without GATEWAY_AUTH_FILE: no interceptor, no TLS, no self credential', () => {
    expect(gatewaySecurity({}, quiet)).toEqual({
      interceptors: [],
      server: {},
      client: {},
      self: {},
    });
  });

  it('gives the warm-up a process-local key that may call any scorer', async () => {
    const security = gatewaySecurity({ GATEWAY_AUTH_FILE: join(dir, 'auth.json') }, quiet);
    const headers = new Map(Object.entries(security.self.headers ?? {}));
    const context = { requestHeaders: headers, peer: 'test' } as unknown as CallContext;
    const method = ScoreService.method.score;
    let reached = false;
    await security.interceptors[0]?.(
      { method, context, request: { scorer: 'any-scorer' } },
      async () => {
        reached = true;
      },
    );
    expect(reached).toBe(true);
    expect(tenantOf(context)).toBe(INTERNAL_TENANT);
  });

  it('refuses half a TLS configuration at start', () => {
    expect(() => gatewaySecurity({ GATEWAY_TLS_CERT: 'x.crt' }, quiet)).toThrow(/go together/);
    expect(() => gatewaySecurity({ SCOREGATE_TLS_CA: 'ca.crt' }, quiet)).toThrow(/go together/);
  });
});

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';

const scorerPatterns = z
  .array(z.string().regex(/^[a-z0-9*][a-z0-9._*-]*$/u, 'a scorer name, `*` as a wildcard'))
  .min(1);

const apiKeySchema = z.strictObject({
  /** Names the key in logs and messages (never the key itself). */
  id: z.string().min(1),
  /** Lower-case hex SHA-256 of the key: `printf %s "$KEY" | sha256sum`. */
  sha256: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/u, 'the SHA-256 of the key as 64 hex digits')
    .transform((hash) => hash.toLowerCase()),
  /** Scorers this key may call; the tenant's `scorers` when absent. */
  scorers: scorerPatterns.optional(),
});

const jwtSchema = z
  .strictObject({
    /** The `iss` every token of this tenant carries; identifies the tenant. Unique. */
    issuer: z.string().min(1),
    /** Accepted `aud` value(s). */
    audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    /** File holding the HS256 shared secret (its bytes as they are, at least 32). */
    hs256SecretFile: z.string().min(1).optional(),
    /** File holding a JWKS (`{"keys": [...]}`) of RS256/ES256 public keys. */
    jwksFile: z.string().min(1).optional(),
    /** Scorers tokens of this issuer may call; the tenant's `scorers` when absent. */
    scorers: scorerPatterns.optional(),
    /** Allowed clock skew for exp/nbf, in seconds. Default 5. */
    clockToleranceSeconds: z.number().int().min(0).max(300).default(5),
  })
  .refine((jwt) => jwt.hs256SecretFile || jwt.jwksFile, {
    message: 'needs hs256SecretFile, jwksFile or both',
  });

const tenantSchema = z.strictObject({
  /** Scorers the tenant's credentials may call unless a credential narrows them. */
  scorers: scorerPatterns,
  apiKeys: z.array(apiKeySchema).default([]),
  jwt: jwtSchema.optional(),
});

export const authFileSchema = z.strictObject({
  tenants: z.record(z.string().regex(/^[a-z0-9][a-z0-9._-]*$/u, 'a tenant id'), tenantSchema),
});

export type AuthFile = z.infer<typeof authFileSchema>;
export type TenantConfig = z.infer<typeof tenantSchema>;

/** What the authenticator needs, with key material read from disk. */
export interface AuthSettings {
  readonly tenants: ReadonlyMap<string, TenantSettings>;
}

export interface TenantSettings {
  readonly scorers: readonly string[];
  readonly apiKeys: readonly { id: string; sha256: string; scorers?: readonly string[] }[];
  readonly jwt?: {
    readonly issuer: string;
    readonly audience: string | string[];
    readonly hs256Secret?: Uint8Array;
    readonly jwks?: { keys: Record<string, unknown>[] };
    readonly scorers?: readonly string[];
    readonly clockToleranceSeconds: number;
  };
}

/**
 * Reads and checks GATEWAY_AUTH_FILE. Key files are resolved against the file's folder. Throws
 * an Error naming the field at fault (the gateway refuses to start).
 */
export function loadAuthFile(path: string): AuthSettings {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`GATEWAY_AUTH_FILE ${path}: ${(error as Error).message}`, { cause: error });
  }
  return parseAuthFile(raw, dirname(resolve(path)), path);
}

export function parseAuthFile(raw: unknown, baseDir: string, source = 'auth file'): AuthSettings {
  const parsed = authFileSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (i) => `${i.path.join('.') || '(root)'}: ${i.message}`,
    );
    throw new Error(`${source}: ${problems.join('; ')}`);
  }
  const tenants = new Map<string, TenantSettings>();
  const issuers = new Map<string, string>();
  const hashes = new Map<string, string>();
  for (const [tenant, config] of Object.entries(parsed.data.tenants)) {
    for (const key of config.apiKeys) {
      const other = hashes.get(key.sha256);
      if (other) throw new Error(`${source}: API key ${tenant}/${key.id} repeats ${other}`);
      hashes.set(key.sha256, `${tenant}/${key.id}`);
    }
    let jwt: TenantSettings['jwt'];
    if (config.jwt) {
      const { issuer } = config.jwt;
      const other = issuers.get(issuer);
      if (other) throw new Error(`${source}: JWT issuer ${issuer} used by ${other} and ${tenant}`);
      issuers.set(issuer, tenant);
      const read = (file: string) => readFileSync(resolve(baseDir, file));
      const secret = config.jwt.hs256SecretFile ? read(config.jwt.hs256SecretFile) : undefined;
      if (secret && secret.length < 32)
        throw new Error(
          `${source}: tenants.${tenant}.jwt: the HS256 secret needs 32 bytes or more`,
        );
      jwt = {
        issuer,
        audience: config.jwt.audience,
        clockToleranceSeconds: config.jwt.clockToleranceSeconds,
        ...(secret ? { hs256Secret: new Uint8Array(secret) } : {}),
        ...(config.jwt.jwksFile
          ? { jwks: readJwks(read(config.jwt.jwksFile), tenant, source) }
          : {}),
        ...(config.jwt.scorers ? { scorers: config.jwt.scorers } : {}),
      };
    }
    tenants.set(tenant, {
      scorers: config.scorers,
      apiKeys: config.apiKeys,
      ...(jwt ? { jwt } : {}),
    });
  }
  return { tenants };
}

function readJwks(
  bytes: Buffer,
  tenant: string,
  source: string,
): { keys: Record<string, unknown>[] } {
  const jwks = JSON.parse(bytes.toString('utf8')) as unknown;
  if (
    typeof jwks !== 'object' ||
    jwks === null ||
    !Array.isArray((jwks as { keys?: unknown }).keys) ||
    (jwks as { keys: unknown[] }).keys.length === 0
  ) {
    throw new Error(`${source}: tenants.${tenant}.jwt.jwksFile is not a JWKS with keys`);
  }
  return jwks as { keys: Record<string, unknown>[] };
}

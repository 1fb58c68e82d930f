import { z } from 'zod';
import { ConfigError, type ConfigIssue } from './config-error.js';

/** A schema keyed by environment variable name, e.g. `{ GATEWAY_PORT: env.port(50051) }`. */
export type EnvSchema = Record<string, z.ZodType>;

export type ConfigOf<S extends EnvSchema> = { [K in keyof S]: z.output<S[K]> };

/**
 * Reads and validates configuration from an environment. Values are trimmed; empty strings count
 * as unset so that defaults apply. Throws one {@link ConfigError} listing every bad variable.
 */
export function loadConfig<S extends EnvSchema>(
  service: string,
  schema: S,
  environment: Readonly<Record<string, string | undefined>> = process.env,
): ConfigOf<S> {
  const input: Record<string, string | undefined> = {};
  for (const key of Object.keys(schema)) {
    const raw = environment[key]?.trim();
    input[key] = raw === '' ? undefined : raw;
  }
  const result = z.object(schema).safeParse(input);
  if (result.success) {
    return result.data as ConfigOf<S>;
  }
  const issues: ConfigIssue[] = result.error.issues.map((issue) => ({
    variable: String(issue.path[0] ?? '(root)'),
    reason: describe(issue, input[String(issue.path[0])]),
  }));
  throw new ConfigError(service, issues);
}

function describe(issue: z.core.$ZodIssue, value: string | undefined): string {
  const shown = value === undefined ? 'unset' : `got "${value}"`;
  return `${issue.message} (${shown})`;
}

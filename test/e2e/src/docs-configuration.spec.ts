import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));

/** Every `.ts` source file (specs aside) below apps/<x>/src and libs/<x>/src. */
function sourceFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) {
        if (name !== 'gen' && name !== 'node_modules') walk(path);
      } else if (name.endsWith('.ts') && !/\.(spec|test)\.ts$/.test(name)) files.push(path);
    }
  };
  for (const tier of ['apps', 'libs'])
    for (const project of readdirSync(join(root, tier))) {
      const src = join(root, tier, project, 'src');
      if (statSync(join(root, tier, project)).isDirectory() && safeIsDir(src)) walk(src);
    }
  return files;
}

function safeIsDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The variables the environment schemas declare (`NAME: env.…` / `NAME: z.…`, one a line or `{ NAME: … }`). */
function declaredVariables(): Set<string> {
  const names = new Set<string>();
  for (const file of sourceFiles())
    for (const match of readFileSync(file, 'utf8').matchAll(
      /(?:^\s+|\{ )([A-Z][A-Z0-9_]{2,}): (?:env\.|z\.|z$)/gm,
    ))
      names.add(match[1]);
  return names;
}

describe('docs/configuration.md', () => {
  const doc = readFileSync(join(root, 'docs/configuration.md'), 'utf8');
  const documented = new Set([...doc.matchAll(/`([A-Z][A-Z0-9_]{2,})`/g)].map((m) => m[1]));
  const declared = declaredVariables();

  it('finds the environment schemas it checks against', () => {
    for (const name of ['GATEWAY_PORT', 'FEATURE_STORE', 'REGISTRY_DATA_DIR', 'LOG_LEVEL'])
      expect(declared, name).toContain(name);
  });

  it('lists every variable a service reads', () => {
    const missing = [...declared].filter((name) => !documented.has(name)).sort();
    expect(missing, 'declared in a config schema but absent from docs/configuration.md').toEqual(
      [],
    );
  });

  it('lists no Scoregate variable that no service reads', () => {
    // Read by the OpenTelemetry SDK and libs/rpc rather than a schema; gRPC status names are prose.
    const notInSchemas = /^(OTEL_\w+|SCOREGATE_TLS_\w+|SCOREGATE_TRACES_FILE|RESOURCE_EXHAUSTED)$/;
    const stale = [...documented]
      .filter((name) => !notInSchemas.test(name) && !declared.has(name))
      .sort();
    expect(stale, 'in docs/configuration.md but read by no service').toEqual([]);
  });
});

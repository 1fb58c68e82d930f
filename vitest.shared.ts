import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

/**
 * One vitest setup for every project: specs run against the TypeScript sources of the
 * workspace libraries (the `@scoregate/source` export condition), never against stale builds.
 */
export function defineProjectConfig(
  projectDir: string,
  overrides: { fileParallelism?: boolean } = {},
) {
  const conditions = ['@scoregate/source', ...defaultServerConditions];
  return defineConfig({
    root: projectDir,
    resolve: { conditions },
    ssr: { resolve: { conditions } },
    test: {
      include: ['src/**/*.spec.ts'],
      environment: 'node',
      pool: 'forks',
      ...overrides,
      testTimeout: 60_000,
      hookTimeout: 120_000,
      // Under `npm test`, each project also writes a JSON report for the closing summary line.
      reporters: process.env['VITEST_JSON_DIR'] ? ['default', 'json'] : ['default'],
      outputFile: process.env['VITEST_JSON_DIR']
        ? {
            json: `${process.env['VITEST_JSON_DIR']}/${projectDir.split('/').slice(-2).join('-')}.json`,
          }
        : {},
    },
  });
}

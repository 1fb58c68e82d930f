import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVICES, startStack, type RunningStack, type StackOptions } from '@scoregate/stack';

export const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The five services as real processes for a benchmark: free ports, the e2e catalogue in a fresh
 * registry and scoring cache under a temp folder named after `name`, logs at warn; `gatewayEnv`
 * adds environment for the gateway, `onOutput` sees every line a service prints.
 */
export function startBenchStack(
  name: string,
  extra: Pick<StackOptions, 'onOutput'> & { gatewayEnv?: Record<string, string> } = {},
): Promise<RunningStack> {
  const dir = mkdtempSync(join(tmpdir(), `scoregate-bench-${name}-`));
  return startStack({
    root,
    ports: Object.fromEntries(SERVICES.map((s) => [s.name, 0])),
    env: { LOG_LEVEL: 'warn' },
    serviceEnv: {
      'registry-service': {
        REGISTRY_CATALOGUE_FILE: join(root, 'test/e2e/fixtures/e2e-catalogue.json'),
        REGISTRY_DATA_DIR: join(dir, 'registry'),
      },
      'scoring-service': { SCORING_CACHE_DIR: join(dir, 'scoring-cache') },
      ...(extra.gatewayEnv ? { gateway: extra.gatewayEnv } : {}),
    },
    ...(extra.onOutput ? { onOutput: extra.onOutput } : {}),
    readyTimeoutMs: 90_000,
  });
}

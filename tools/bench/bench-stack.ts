import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  SERVICES,
  startStack,
  type RunningStack,
  type ServiceName,
  type StackOptions,
} from '@scoregate/stack';

export const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The five services as real processes for a benchmark: free ports, the e2e catalogue in a fresh
 * registry, scoring cache and prediction file under a temp folder named after `name`, logs at warn; `env` adds
 * environment for every service, `serviceEnv` for one, `gatewayEnv` for the gateway, `onOutput`
 * sees every line a service prints. `dir` is the temp folder. Interrupted (SIGINT, SIGTERM), the
 * benchmark still stops the services it started (after `onInterrupt`), and exits 130.
 */
export function startBenchStack(
  name: string,
  extra: Pick<StackOptions, 'onOutput' | 'env' | 'serviceEnv'> & {
    gatewayEnv?: Record<string, string>;
    onInterrupt?: () => void;
  } = {},
): Promise<RunningStack & { dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), `scoregate-bench-${name}-`));
  const own = (service: ServiceName) => extra.serviceEnv?.[service] ?? {};
  const stack = startStack({
    root,
    ports: Object.fromEntries(SERVICES.map((s) => [s.name, 0])),
    env: { LOG_LEVEL: 'warn', ...extra.env },
    serviceEnv: {
      ...extra.serviceEnv,
      'registry-service': {
        ...own('registry-service'),
        REGISTRY_CATALOGUE_FILE: join(root, 'test/e2e/fixtures/e2e-catalogue.json'),
        REGISTRY_DATA_DIR: join(dir, 'registry'),
      },
      'scoring-service': {
        ...own('scoring-service'),
        SCORING_CACHE_DIR: join(dir, 'scoring-cache'),
      },
      'retrain-service': { ...own('retrain-service'), RETRAIN_DATA_DIR: join(dir, 'retrain') },
      gateway: {
        GATEWAY_PREDICTION_FILE: join(dir, 'predictions.jsonl'),
        ...own('gateway'),
        ...extra.gatewayEnv,
      },
    },
    ...(extra.onOutput ? { onOutput: extra.onOutput } : {}),
    readyTimeoutMs: 90_000,
  });
  return stack.then((running) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const)
      process.once(signal, () => {
        extra.onInterrupt?.();
        void running.stop().finally(() => process.exit(130));
      });
    return { ...running, dir };
  });
}

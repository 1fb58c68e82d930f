import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkHealth } from '@scoregate/rpc';
import { SERVICES, startStack, type RunningStack, type ServiceName } from '@scoregate/stack';

export const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const e2eCatalogue = join(repoRoot, 'test/e2e/fixtures/e2e-catalogue.json');

export interface FuzzStack extends RunningStack {
  /** Each service's last lines, for a failure message. */
  lastLines(service: ServiceName): string;
  /** Stops the services and removes their data. */
  dispose(): Promise<void>;
}

/**
 * The five services as real processes on free loopback ports, with a fresh registry seeded from
 * the e2e catalogue (a generous budget: a fuzzed stack is busy) and the in-memory feature store
 * seeded with the demo entities.
 */
export async function startFuzzStack(): Promise<FuzzStack> {
  const dir = mkdtempSync(join(tmpdir(), 'scoregate-fuzz-'));
  const ports = Object.fromEntries(SERVICES.map((s) => [s.name, 0])) as Record<ServiceName, number>;
  // A fresh registry and model cache per stack. Errors only in the services' logs: the warnings
  // fuzzing causes (each degraded answer has one) would come by the thousand.
  const registry = {
    REGISTRY_CATALOGUE_FILE: e2eCatalogue,
    REGISTRY_DATA_DIR: join(dir, 'registry'),
  };
  const scoring = { SCORING_CACHE_DIR: join(dir, 'scoring-cache') };
  const retrain = { RETRAIN_DATA_DIR: join(dir, 'retrain') };
  const stack = await startStack({
    root: repoRoot,
    ports,
    env: { LOG_LEVEL: 'error' },
    serviceEnv: {
      'registry-service': registry,
      'scoring-service': scoring,
      'retrain-service': retrain,
    },
    readyTimeoutMs: 90_000,
  });
  return {
    ...stack,
    lastLines: (service) => stack.services[service].lastLines().slice(-20).join('\n'),
    async dispose() {
      await stack.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The services that crashed or stopped answering: a process that exited, or that does not
 * answer health SERVING within a few seconds.
 */
export async function unhealthyServices(stack: RunningStack): Promise<string[]> {
  const verdicts = await Promise.all(
    SERVICES.map(async ({ name }) => {
      const service = stack.services[name];
      const { exitCode, signalCode } = service.process;
      if (exitCode !== null || signalCode !== null)
        return `${name} exited (${exitCode ?? signalCode})`;
      const status = await checkHealth(service.address, '', 5_000, service.tls).catch(
        (error: Error) => error.message,
      );
      return status === 'SERVING' ? undefined : `${name} health: ${status}`;
    }),
  );
  return verdicts.filter((verdict) => verdict !== undefined);
}

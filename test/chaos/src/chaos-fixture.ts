import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  startService,
  startStack,
  type RunningStack,
  type ServiceName,
  type StackOptions,
} from '@scoregate/stack';

export const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const e2eCatalogue = join(repoRoot, 'test/e2e/fixtures/e2e-catalogue.json');
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A service process started by the test itself (beside the stack). */
export interface ExtraProcess {
  readonly address: string;
  readonly process: ChildProcess;
  readonly exited: Promise<number | string>;
  readonly output: string[];
  stop(): Promise<void>;
}

/** Starts one more gateway or scoring-service on a free port and waits for health SERVING. */
export async function startProcess(
  app: 'gateway' | 'scoring-service',
  env: Record<string, string>,
): Promise<ExtraProcess> {
  const output: string[] = [];
  const running = await startService({
    name: app,
    port: 0,
    env: { LOG_LEVEL: 'warn', ...env },
    root: repoRoot,
    readyTimeoutMs: 60_000,
    onOutput: (line) => output.push(line),
  });
  const stop = async () => {
    // It may have been frozen (SIGSTOP) by the test.
    running.process.kill('SIGCONT');
    await running.stop();
  };
  return {
    address: running.address,
    process: running.process,
    exited: running.exited,
    output,
    stop,
  };
}

/**
 * The stack of five services on free ports, with the e2e catalogue in a fresh registry; `extra`
 * adds environment for the gateway (e.g. NODE_OPTIONS) and sees every line a service prints.
 */
export async function startChaosStack(
  extra: Pick<StackOptions, 'onOutput'> & { gatewayEnv?: Record<string, string> } = {},
): Promise<RunningStack & { dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'scoregate-chaos-'));
  const ports = Object.fromEntries(
    ['gateway', 'feature-service', 'scoring-service', 'registry-service', 'retrain-service'].map(
      (s) => [s, 0],
    ),
  ) as Record<ServiceName, number>;
  const stack = await startStack({
    root: repoRoot,
    ports,
    env: { LOG_LEVEL: 'warn' },
    serviceEnv: {
      'registry-service': {
        REGISTRY_CATALOGUE_FILE: e2eCatalogue,
        REGISTRY_DATA_DIR: join(dir, 'registry'),
      },
      'scoring-service': { SCORING_CACHE_DIR: join(dir, 'scoring-cache') },
      'retrain-service': { RETRAIN_DATA_DIR: join(dir, 'retrain') },
      ...(extra.gatewayEnv ? { gateway: extra.gatewayEnv } : {}),
    },
    ...(extra.onOutput ? { onOutput: extra.onOutput } : {}),
    readyTimeoutMs: 90_000,
  });
  return { ...stack, dir };
}

/** Latency percentile (0..1) of `samples` in ms. */
export function percentile(samples: readonly number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;
}

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { durationMs } from '@bufbuild/protobuf/wkt';
import { ScoreService, type ScoreResponse } from '@scoregate/contracts';
import { createRpcClient, type RpcClient } from '@scoregate/rpc';
import { startStack, type RunningStack, type ServiceName } from '@scoregate/stack';
import { repoRoot } from './chaos-fixture.js';

/**
 * The five services on free ports, the e2e catalogue in a fresh registry (as `startChaosStack`),
 * plus extra environment per service (e.g. feature-service on a private Redis).
 */
export async function startFaultStack(
  serviceEnv: Partial<Record<ServiceName, Record<string, string>>> = {},
): Promise<RunningStack & { dir: string; output: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'scoregate-chaos-'));
  const output: string[] = [];
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
      ...serviceEnv,
      'registry-service': {
        REGISTRY_CATALOGUE_FILE: join(repoRoot, 'test/e2e/fixtures/e2e-catalogue.json'),
        REGISTRY_DATA_DIR: join(dir, 'registry'),
        ...serviceEnv['registry-service'],
      },
      'scoring-service': {
        SCORING_CACHE_DIR: join(dir, 'scoring-cache'),
        ...serviceEnv['scoring-service'],
      },
      'retrain-service': {
        RETRAIN_DATA_DIR: join(dir, 'retrain'),
        ...serviceEnv['retrain-service'],
      },
    },
    onOutput: (service, line) => {
      if (output.length < 2_000) output.push(`[${service}] ${line}`);
    },
    readyTimeoutMs: 90_000,
  });
  return { ...stack, dir, output };
}

/** A Score client of the stack's gateway (5 s per call unless the call says otherwise). */
export function gatewayClient(stack: RunningStack): RpcClient<typeof ScoreService> {
  return createRpcClient(ScoreService, {
    address: stack.address('gateway'),
    defaultTimeoutMs: 5_000,
  });
}

/** One call's outcome as the test sees it. */
export interface Outcome {
  readonly ok: boolean;
  /** Wall time measured by the client, ms. */
  readonly ms: number;
  readonly reply?: ScoreResponse;
  readonly error?: string;
}

/** Summary line of a batch of outcomes against `budgetMs`. */
export function summarize(outcomes: readonly Outcome[], budgetMs: number): string {
  const ok = outcomes.filter((o) => o.ok);
  const wall = ok.map((o) => o.ms);
  const total = ok.map((o) => durationMs(o.reply!.timings!.total!));
  const max = (xs: number[]) => (xs.length ? Math.max(...xs) : NaN).toFixed(1);
  return (
    `${outcomes.length} calls, ${outcomes.length - ok.length} errors, budget ${budgetMs} ms, ` +
    `client max ${max(wall)} ms, gateway total max ${max(total)} ms`
  );
}

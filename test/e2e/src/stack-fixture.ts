import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStack, type RunningStack, type ServiceName } from '@scoregate/stack';

export const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
export const fixtures = join(repoRoot, 'tools/models/fixtures');
export const e2eCatalogue = fileURLToPath(
  new URL('../fixtures/e2e-catalogue.json', import.meta.url),
);

export interface E2eStack extends RunningStack {
  readonly tracesFile: string;
  readonly predictionsFile: string;
  readonly output: string[];
}

/** The five services as real processes on free loopback ports, writing spans to a file. */
export async function startE2eStack(): Promise<E2eStack> {
  const dir = mkdtempSync(join(tmpdir(), 'scoregate-e2e-'));
  const tracesFile = join(dir, 'spans.jsonl');
  const predictionsFile = join(dir, 'predictions.jsonl');
  const output: string[] = [];
  const ports = Object.fromEntries(
    ['gateway', 'feature-service', 'scoring-service', 'registry-service', 'retrain-service'].map(
      (s) => [s, 0],
    ),
  ) as Record<ServiceName, number>;
  const stack = await startStack({
    root: repoRoot,
    ports,
    env: { SCOREGATE_TRACES_FILE: tracesFile, OTEL_BSP_SCHEDULE_DELAY: '100', LOG_LEVEL: 'info' },
    serviceEnv: {
      // A fresh registry per stack, seeded from the e2e catalogue (generous budget).
      'registry-service': {
        REGISTRY_CATALOGUE_FILE: e2eCatalogue,
        REGISTRY_DATA_DIR: join(dir, 'registry'),
      },
      'scoring-service': { SCORING_CACHE_DIR: join(dir, 'scoring-cache') },
      'retrain-service': { RETRAIN_DATA_DIR: join(dir, 'retrain') },
      gateway: { GATEWAY_PREDICTION_FILE: predictionsFile, GATEWAY_PREDICTION_LINGER_MS: '10' },
    },
    onOutput: (service, line) => output.push(`[${service}] ${line}`),
    readyTimeoutMs: 60_000,
  });
  return { ...stack, tracesFile, predictionsFile, output };
}

export interface SpanRecord {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  name: string;
  kind: string;
  serviceName: string;
}

export function readSpans(file: string): SpanRecord[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as SpanRecord);
}

export interface Golden {
  sample: { columns: string[]; rows: number[][]; entityKeys?: string[] };
  predictions: Record<string, { label: number[]; probabilities: number[][] }>;
}
export const golden = JSON.parse(readFileSync(join(fixtures, 'golden.json'), 'utf8')) as Golden;
export const demoEntities = JSON.parse(
  readFileSync(join(fixtures, 'demo-entities.json'), 'utf8'),
) as {
  entityType: string;
  key: string;
}[];

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

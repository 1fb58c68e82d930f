import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtures, root, startService, type ServiceProcess } from './service-process.js';

interface Golden {
  predictions: Record<string, { label: number[]; probabilities: number[][] }>;
}
interface ClientReport {
  server_live: boolean;
  server_ready: boolean;
  models: Record<
    string,
    {
      ready: boolean;
      metadata: {
        name: string;
        platform: string;
        inputs: { name: string; datatype: string; shape: string[] }[];
      };
      model_version: string;
      label: number[];
      probabilities: number[][];
    }
  >;
}
const golden = JSON.parse(readFileSync(join(fixtures, 'golden.json'), 'utf8')) as Golden;
const run = promisify(execFile);

let python: string;
let registry: ServiceProcess;
let scoring: ServiceProcess;
let cacheDir: string;

beforeAll(async () => {
  // The virtualenv with tritonclient[grpc] from PyPI (idempotent; cached by a stamp file).
  const setup = execFileSync('bash', [join(root, 'tools/interop/setup.sh')], {
    encoding: 'utf8',
    timeout: 300_000,
  });
  python = setup.trim().split('\n').at(-1) as string;
  cacheDir = mkdtempSync(join(tmpdir(), 'interop-triton-'));
  registry = await startService('registry-service', {
    REGISTRY_DATA_DIR: join(cacheDir, 'registry'),
  });
  scoring = await startService('scoring-service', {
    SCORING_REGISTRY_ADDRESS: registry.address,
    SCORING_CACHE_DIR: join(cacheDir, 'scoring'),
  });
});
afterAll(async () => {
  await scoring?.stop();
  await registry?.stop();
  if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
});

async function tritonClient(version: string): Promise<ClientReport> {
  const { stdout } = await run(
    python,
    [
      join(root, 'tools/interop/triton_client.py'),
      scoring.address,
      join(fixtures, 'golden.json'),
      version,
    ],
    { timeout: 60_000 },
  );
  return JSON.parse(stdout) as ClientReport;
}

describe("Triton's Python client (tritonclient[grpc]) against a registry-following scoring-service", () => {
  it.each([
    ['the champion alias (empty version)', ''],
    ['the champion alias by name', 'champion'],
    ['version 1', '1'],
  ])(
    'gets ServerReady, ModelMetadata and the golden predictions within 1e-5 through %s',
    async (_case, version) => {
      const report = await tritonClient(version);
      expect(report.server_live).toBe(true);
      expect(report.server_ready).toBe(true);
      expect(Object.keys(report.models)).toEqual(Object.keys(golden.predictions).sort());
      for (const [model, expected] of Object.entries(golden.predictions)) {
        const got = report.models[model];
        expect(got?.ready).toBe(true);
        expect(got?.metadata.name).toBe(model);
        expect(got?.metadata.platform).toBe('onnxruntime_onnx');
        expect(got?.metadata.inputs.map((i) => i.name)).toEqual(['features']);
        expect(got?.model_version).toBe('1');
        expect(got?.label).toEqual(expected.label);
        expected.probabilities.forEach((pair, row) =>
          pair.forEach((p, i) =>
            expect(Math.abs((got?.probabilities[row]?.[i] as number) - p)).toBeLessThan(1e-5),
          ),
        );
      }
    },
  );
});

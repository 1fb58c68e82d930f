import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageInitShape } from '@bufbuild/protobuf';
import {
  GRPCInferenceService,
  RegistryService,
  type UploadModelVersionRequestSchema,
} from '@scoregate/contracts';
import { decodeRaw, encodeRaw } from '@scoregate/inference-protocol';
import { createRpcClient, RpcError, type RpcClient } from '@scoregate/rpc';
import { fixtures, root, startService, type ServiceProcess } from './service-process.js';

interface Golden {
  sample: { columns: string[]; rows: number[][] };
  predictions: Record<string, { probabilities: number[][]; columns: string[] }>;
}
const golden = JSON.parse(readFileSync(join(fixtures, 'golden.json'), 'utf8')) as Golden;
const MODEL = 'truck-roll-gbt';
const RATE_PER_S = 400;
const LOAD_MS = 20_000;
const MOVE_AT_MS = 10_000;

let dir: string;
let registry: ServiceProcess;
let scoring: ServiceProcess;
let registryClient: RpcClient<typeof RegistryService>;
let scoringClient: RpcClient<typeof GRPCInferenceService>;
let variant: Uint8Array;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'interop-swap-'));
  // A second gbt with the same signature and different answers: every leaf weight halved.
  const python = execFileSync('bash', [join(root, 'tools/interop/setup.sh')], {
    encoding: 'utf8',
    timeout: 300_000,
  })
    .trim()
    .split('\n')
    .at(-1) as string;
  execFileSync(python, [
    join(root, 'tools/interop/make_variant.py'),
    join(fixtures, MODEL, '1/model.onnx'),
    join(dir, 'variant.onnx'),
  ]);
  variant = new Uint8Array(readFileSync(join(dir, 'variant.onnx')));
  registry = await startService('registry-service', {
    REGISTRY_DATA_DIR: join(dir, 'registry'),
    REGISTRY_WATCH_POLL_MS: '100',
  });
  scoring = await startService('scoring-service', {
    SCORING_REGISTRY_ADDRESS: registry.address,
    SCORING_CACHE_DIR: join(dir, 'scoring-cache'),
  });
  registryClient = createRpcClient(RegistryService, { address: registry.address });
  scoringClient = createRpcClient(GRPCInferenceService, { address: scoring.address });
});
afterAll(async () => {
  registryClient?.close();
  scoringClient?.close();
  await scoring?.stop();
  await registry?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const columns = golden.predictions[MODEL]?.columns ?? [];
const row = (i: number) =>
  columns.map((c) => golden.sample.rows[i]?.[golden.sample.columns.indexOf(c)] as number);

async function uploadVariant(): Promise<string> {
  const current = await registryClient.getModelVersion({
    model: MODEL,
    selector: { case: 'version', value: '1' },
  });
  const spec = current.version?.spec;
  if (spec) spec.description = 'leaf weights halved (interop test)';
  const requests: MessageInitShape<typeof UploadModelVersionRequestSchema>[] = [
    {
      content: {
        case: 'header',
        value: {
          model: MODEL,
          sha256: createHash('sha256').update(variant).digest('hex'),
          sizeBytes: BigInt(variant.length),
          spec,
          registeredBy: 'test/interop',
        },
      },
    },
    { content: { case: 'chunk', value: variant } },
  ];
  const reply = await registryClient.uploadModelVersion(requests, { timeoutMs: 10_000 });
  return reply.version?.version ?? '';
}

describe('zero-downtime swap between real registry-service and scoring-service processes', () => {
  it(`moves champion under ${RATE_PER_S} ModelInfer calls per second for ${LOAD_MS / 1000} s: no failed call, the new version answers within 2 s`, async () => {
    const data = new Float32Array(row(1));
    const results: { sentAt: number; at: number; version: string; p1: number }[] = [];
    const failures: string[] = [];
    const inFlight = new Set<Promise<void>>();
    const call = () => {
      const sentAt = Date.now();
      const done = scoringClient
        .modelInfer(
          {
            modelName: MODEL,
            modelVersion: 'champion',
            inputs: [{ name: 'features', datatype: 'FP32', shape: [1n, 8n] }],
            rawInputContents: [encodeRaw({ datatype: 'FP32', shape: [1, 8], data })],
          },
          { timeoutMs: 2000 },
        )
        .then(
          (reply) => {
            const index = reply.outputs.findIndex((o) => o.name === 'probabilities');
            const p = decodeRaw('FP32', [1, 2], reply.rawOutputContents[index] as Uint8Array)
              .data as Float32Array;
            results.push({
              sentAt,
              at: Date.now(),
              version: reply.modelVersion,
              p1: p[1] as number,
            });
          },
          (error: unknown) => void failures.push(RpcError.from(error).message),
        )
        .finally(() => inFlight.delete(done));
      inFlight.add(done);
    };

    const start = Date.now();
    let sent = 0;
    let movedAt = Infinity;
    let newVersion = '';
    const moving = (async () => {
      await new Promise((resolve) => setTimeout(resolve, MOVE_AT_MS));
      newVersion = await uploadVariant();
      await registryClient.setAlias({
        model: MODEL,
        alias: 'champion',
        version: newVersion,
        reason: 'zero-downtime swap test',
      });
      movedAt = Date.now();
    })();
    // Open loop: the number of calls sent follows the clock, whatever the answers take.
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const elapsed = Date.now() - start;
        const due = Math.min(
          Math.floor((elapsed * RATE_PER_S) / 1000),
          (LOAD_MS * RATE_PER_S) / 1000,
        );
        while (sent < due) {
          call();
          sent++;
        }
        if (elapsed >= LOAD_MS) {
          clearInterval(timer);
          resolve();
        }
      }, 5);
    });
    await moving;
    await Promise.all([...inFlight]);
    const elapsedS = (Date.now() - start) / 1000;

    expect(failures).toEqual([]);
    expect(results.length).toBe(sent);
    expect(sent / elapsedS).toBeGreaterThanOrEqual(300);
    expect(newVersion).toBe('2');
    const oldP1 = golden.predictions[MODEL]?.probabilities[1]?.[1] as number;
    const firstNew = results.filter((r) => r.version === newVersion).sort((a, b) => a.at - b.at)[0];
    expect(firstNew).toBeDefined();
    expect((firstNew?.at ?? Infinity) - movedAt).toBeLessThan(2000);
    // Everything sent 2 s after the move came from the new version, with its own answers.
    const late = results.filter((r) => r.sentAt > movedAt + 2000);
    expect(late.length).toBeGreaterThan(1000);
    expect(late.every((r) => r.version === newVersion)).toBe(true);
    expect(Math.abs((late[0]?.p1 as number) - oldP1)).toBeGreaterThan(0.01);
    // Before the move, the old version answered with the golden probability.
    const early = results.filter((r) => r.at < movedAt);
    expect(early.every((r) => r.version === '1' && Math.abs(r.p1 - oldP1) < 1e-5)).toBe(true);
  });
});

/**
 * ModelInfer benchmark: scoring-service as a real process (local-directory mode, fixture models)
 * with micro-batching on and off, next to the floor measured in the same run: onnxruntime-node
 * called in-process on the same model (through @scoregate/inference) and an empty gRPC round trip
 * (ServerLive). Prints p50/p99 at concurrency 1 and throughput at saturation, and the ratios.
 *
 *   npx nx run-many -t build && npx node tools/bench/scoring.ts [seconds per run, default 5]
 *
 * A benchmark, not a test: figures depend on the machine; compare the ratios.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { GRPCInferenceService } from '@scoregate/contracts';
import { loadOnnxModel } from '@scoregate/inference';
import { encodeRaw } from '@scoregate/inference-protocol';
import { checkHealth, createRpcClient } from '@scoregate/rpc';
import { freePort } from '@scoregate/stack';
// The batcher itself, from the build (a tool may reach into an app's build; apps may not).
import { createMicroBatcher } from '../../apps/scoring-service/dist/micro-batcher.js';

const root = join(import.meta.dirname, '../..');
const MODEL = 'truck-roll-gbt';
const seconds = Number(process.argv[2] ?? 5);
const CONCURRENCY = 32;

interface Figures {
  p50: number;
  p99: number;
  perSecond: number;
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] as number;

/** Runs `op` from `concurrency` loops for `ms`; latencies in microseconds, calls per second. */
async function measure(
  op: () => Promise<unknown>,
  concurrency: number,
  ms: number,
): Promise<Figures> {
  const warmEnd = Date.now() + Math.min(1000, ms / 5);
  while (Date.now() < warmEnd) await op();
  const latencies: number[] = [];
  const end = performance.now() + ms;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        await op();
        latencies.push((performance.now() - t) * 1000);
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    perSecond: latencies.length / elapsed,
  };
}

function features(rows: number): Float32Array {
  return Float32Array.from({ length: rows * 8 }, (_, i) => ((i * 7) % 13) / 3);
}

async function startScoring(batching: boolean) {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['--import', '@scoregate/telemetry/register', join(root, 'apps/scoring-service/dist/main.js')],
    {
      cwd: root,
      stdio: 'ignore',
      env: {
        ...process.env,
        SCORING_SERVICE_PORT: String(port),
        SCORING_BATCHING: String(batching),
        LOG_LEVEL: 'warn',
      },
    },
  );
  const address = `127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while ((await checkHealth(address, '', 500).catch(() => 'DOWN')) !== 'SERVING') {
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error('scoring-service did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    address,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

const rows = [1, 32];
const results: Record<string, Figures> = {};
const ms = seconds * 1000;

// Floor 1: onnxruntime-node in-process on the same model (no gRPC, no codec).
const onnx = await loadOnnxModel(join(root, 'tools/models/fixtures', MODEL, '1/model.onnx'));
for (const n of rows) {
  const feeds = { features: { datatype: 'FP32' as const, shape: [n, 8], data: features(n) } };
  results[`in-process ${n} row`] = await measure(() => onnx.run(feeds), 1, ms);
}
// The micro-batcher alone, in-process: 32 concurrent 1-row calls, coalesced or one by one.
for (const enabled of [true, false]) {
  const batcher = createMicroBatcher(onnx, { enabled, maxBatchRows: 256 });
  const feeds = { features: { datatype: 'FP32' as const, shape: [1, 8], data: features(1) } };
  results[`in-process batcher ${enabled ? 'on ' : 'off'} 1 row, c=${CONCURRENCY}`] = await measure(
    () => batcher.run(feeds),
    CONCURRENCY,
    ms,
  );
}
await onnx.release();

for (const batching of [false, true]) {
  const service = await startScoring(batching);
  const client = createRpcClient(GRPCInferenceService, { address: service.address });
  const label = `ModelInfer batching ${batching ? 'on ' : 'off'}`;
  // Floor 2: an empty gRPC round trip to the same process.
  if (!batching)
    results['ServerLive (gRPC floor)'] = await measure(() => client.serverLive({}), 1, ms);
  for (const n of rows) {
    const request = {
      modelName: MODEL,
      modelVersion: '1',
      inputs: [{ name: 'features', datatype: 'FP32', shape: [BigInt(n), 8n] }],
      rawInputContents: [encodeRaw({ datatype: 'FP32', shape: [n, 8], data: features(n) })],
    };
    results[`${label} ${n} row, c=1`] = await measure(() => client.modelInfer(request), 1, ms);
    results[`${label} ${n} row, c=${CONCURRENCY}`] = await measure(
      () => client.modelInfer(request),
      CONCURRENCY,
      ms,
    );
  }
  client.close();
  await service.stop();
}

const pad = (s: string, n: number) => s.padEnd(n);
console.log(
  `\nscoring-service ModelInfer on ${MODEL}, ${seconds} s per run, Node ${process.version}\n`,
);
console.log(`${pad('run', 44)}${pad('p50 µs', 10)}${pad('p99 µs', 10)}calls/s`);
for (const [name, f] of Object.entries(results)) {
  console.log(
    `${pad(name, 44)}${pad(f.p50.toFixed(0), 10)}${pad(f.p99.toFixed(0), 10)}${f.perSecond.toFixed(0)}`,
  );
}
console.log('\nratios (same run):');
for (const n of rows) {
  const floor = results[`in-process ${n} row`] as Figures;
  for (const state of ['on ', 'off']) {
    const single = results[`ModelInfer batching ${state} ${n} row, c=1`] as Figures;
    const loaded = results[`ModelInfer batching ${state} ${n} row, c=${CONCURRENCY}`] as Figures;
    console.log(
      `  ${n} row, batching ${state}: p50 ${(single.p50 / floor.p50).toFixed(1)}x in-process; ` +
        `saturated throughput ${(loaded.perSecond / floor.perSecond).toFixed(2)}x in-process runs/s, ` +
        `${(loaded.perSecond * n).toFixed(0)} rows/s`,
    );
  }
}
const on32 = results[`ModelInfer batching on  1 row, c=${CONCURRENCY}`] as Figures;
const off32 = results[`ModelInfer batching off 1 row, c=${CONCURRENCY}`] as Figures;
console.log(
  `  micro-batching at c=${CONCURRENCY}, 1 row: ${(on32.perSecond / off32.perSecond).toFixed(2)}x the throughput, p99 ${(on32.p99 / off32.p99).toFixed(2)}x`,
);

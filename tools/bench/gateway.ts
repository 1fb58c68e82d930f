/**
 * Gateway benchmark: the five services as real processes (@scoregate/stack, e2e catalogue), and
 *
 * - the floor, measured in the same run: the direct path without the gateway, call by call —
 *   GetFeatures on feature-service (one gRPC round trip + one Redis read), ModelInfer on
 *   scoring-service (one round trip + one onnxruntime run) and ListFeatureViews (one round trip):
 *   three grpc-js round trips + one Redis read + one onnxruntime run;
 * - end-to-end Score through the gateway process: concurrency 1 (next to the floor: the
 *   gateway's overhead), and at a fixed open-loop load (p50/p99/p99.9);
 * - capacity: closed loop at concurrency 32, calls per second;
 * - hedging's extra load when healthy: a gateway built in this process from apps/gateway/dist
 *   with a ModelInfer-counting scoring client, at the fixed load: extra ModelInfer calls per Score.
 *
 *   npx tsc -b apps/gateway/tsconfig.lib.json libs/stack/tsconfig.lib.json && \
 *     npx node tools/bench/gateway.ts [seconds per run, default 5] [fixed load /s, default 200]
 *
 * A benchmark, not a test: figures depend on the machine; compare the ratios.
 */
import { durationFromMs } from '@bufbuild/protobuf/wkt';
import {
  FeatureService,
  GRPCInferenceService,
  RegistryService,
  ScoreService,
} from '@scoregate/contracts';
import { encodeRaw } from '@scoregate/inference-protocol';
import { createRpcClient, createRpcServer, implement } from '@scoregate/rpc';
import { createChainResilience } from '../../apps/gateway/dist/chain-resilience.js';
import { createRouteTable } from '../../apps/gateway/dist/routes/route-table.js';
import { createScoreHandlers } from '../../apps/gateway/dist/score-handlers.js';
import { singleScoringBackend } from '../../apps/gateway/dist/scoring-backends.js';
import { startBenchStack } from './bench-stack.ts';

const seconds = Number(process.argv[2] ?? 5);
const fixedRate = Number(process.argv[3] ?? 200);
const SCORER = 'truck-roll-priority';
const keys = ['c-0001', 'c-0002', 'c-0003', 'c-0004', 'c-0005'];
const silent = { info() {}, warn() {}, error() {}, debug() {} };

const pct = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
function summary(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  return { n: s.length, p50: pct(s, 0.5), p99: pct(s, 0.99), p999: pct(s, 0.999) };
}
const f = (ms: number) => `${ms.toFixed(2)} ms`;

async function sequential(fn: (i: number) => Promise<unknown>, ms: number): Promise<number[]> {
  const samples: number[] = [];
  const end = performance.now() + ms;
  for (let i = 0; performance.now() < end; i++) {
    const t0 = performance.now();
    await fn(i);
    samples.push(performance.now() - t0);
  }
  return samples;
}

async function openLoop(
  fn: (i: number) => Promise<unknown>,
  rate: number,
  ms: number,
): Promise<{ samples: number[]; errors: number; achieved: number }> {
  const samples: number[] = [];
  let errors = 0;
  const inflight: Promise<void>[] = [];
  const start = performance.now();
  let issued = 0;
  while (performance.now() - start < ms) {
    const due = Math.floor(((performance.now() - start) * rate) / 1_000);
    for (; issued < due; issued++) {
      const t0 = performance.now();
      inflight.push(
        fn(issued).then(
          () => void samples.push(performance.now() - t0),
          () => void errors++,
        ),
      );
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(inflight);
  return { samples, errors, achieved: issued / ((performance.now() - start) / 1_000) };
}

async function closedLoop(fn: (i: number) => Promise<unknown>, concurrency: number, ms: number) {
  let done = 0;
  const end = performance.now() + ms;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await fn(done).catch(() => {});
        done++;
      }
    }),
  );
  return done / ((performance.now() - start) / 1_000);
}

const stack = await startBenchStack('gw');
const gateway = createRpcClient(ScoreService, { address: stack.address('gateway') });
const features = createRpcClient(FeatureService, { address: stack.address('feature-service') });
const scoring = createRpcClient(GRPCInferenceService, {
  address: stack.address('scoring-service'),
});
const registry = createRpcClient(RegistryService, { address: stack.address('registry-service') });

try {
  const budget = durationFromMs(100);
  const score = (client: typeof gateway) => (i: number) =>
    client.score(
      {
        scorer: SCORER,
        entityKeys: [{ entityType: 'customer', key: keys[i % keys.length]! }],
        budget,
      },
      { timeoutMs: 1_000 },
    );
  // The direct path, as the gateway makes it for the primary model.
  const { version } = await registry.getModelVersion({
    model: 'truck-roll-gbt',
    selector: { case: 'alias', value: 'champion' },
  });
  const refs = version!.spec!.contract!.inputs.map((x) => x.ref);
  const row = new Float32Array(refs.length).fill(1);
  const direct = async (i: number) => {
    await features.getFeatures(
      { entities: [{ entityType: 'customer', key: keys[i % keys.length]! }], featureRefs: refs },
      { timeoutMs: 1_000 },
    );
    await scoring.modelInfer(
      {
        modelName: 'truck-roll-gbt',
        modelVersion: 'champion',
        inputs: [
          { name: version!.spec!.input!.name, datatype: 'FP32', shape: [1n, BigInt(row.length)] },
        ],
        rawInputContents: [encodeRaw({ datatype: 'FP32', shape: [1, row.length], data: row })],
      },
      { timeoutMs: 1_000 },
    );
    // The third round trip: a small call on an open channel, as the client's call to the gateway.
    await features.listFeatureViews({}, { timeoutMs: 1_000 });
  };
  const ms = seconds * 1_000;
  await sequential(direct, 1_000);
  await sequential(score(gateway), 1_000);
  const floor = summary(await sequential(direct, ms));
  const e2e1 = summary(await sequential(score(gateway), ms));
  const loaded = await openLoop(score(gateway), fixedRate, ms);
  const atLoad = summary(loaded.samples);
  const capacity = await closedLoop(score(gateway), 32, ms);

  // Hedging's extra load: the same handlers in this process, counting ModelInfer calls.
  let inferCalls = 0;
  const counting = new Proxy(scoring, {
    get(target, prop, receiver) {
      if (prop === 'modelInfer')
        return (...args: Parameters<typeof scoring.modelInfer>) => {
          inferCalls++;
          return target.modelInfer(...args);
        };
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
  const routes = createRouteTable({ registry, logger: silent });
  await routes.whenReady();
  const server = createRpcServer({ name: 'bench-gateway', logger: silent });
  implement(
    ScoreService,
    createScoreHandlers({
      routes,
      features,
      scoring: singleScoringBackend(counting),
      resilience: createChainResilience({ hedging: true }),
      logger: silent,
      defaultBudgetMs: 100,
      responseReserveMs: 2,
    }),
  ).register(server);
  const port = await server.listen('127.0.0.1:0');
  const local = createRpcClient(ScoreService, { address: `127.0.0.1:${port}` });
  await sequential(score(local), 1_000);
  inferCalls = 0;
  const hedgeRun = await openLoop(score(local), Math.min(fixedRate, 100), ms);
  const scores = hedgeRun.samples.length + hedgeRun.errors;
  local.close();
  await server.shutdown({ graceMs: 1_000 });
  await routes.stop();

  console.log(`gateway benchmark (${seconds} s per run, budget 100 ms, scorer ${SCORER})`);
  console.log(
    `floor (direct: GetFeatures + ModelInfer + ListFeatureViews, sequential): p50 ${f(floor.p50)} p99 ${f(floor.p99)} p99.9 ${f(floor.p999)} (n=${floor.n})`,
  );
  console.log(
    `Score, concurrency 1: p50 ${f(e2e1.p50)} p99 ${f(e2e1.p99)} p99.9 ${f(e2e1.p999)} (n=${e2e1.n}); ` +
      `${(e2e1.p50 / floor.p50).toFixed(2)}x floor p50, gateway overhead p50 ${f(e2e1.p50 - floor.p50)}`,
  );
  console.log(
    `Score at ${fixedRate}/s (achieved ${loaded.achieved.toFixed(0)}/s, ${loaded.errors} errors): p50 ${f(atLoad.p50)} p99 ${f(atLoad.p99)} p99.9 ${f(atLoad.p999)}; ` +
      `${(atLoad.p99 / floor.p99).toFixed(2)}x floor p99`,
  );
  console.log(`capacity (closed loop, 32 in flight): ${capacity.toFixed(0)} Score/s`);
  console.log(
    `hedging when healthy (in-process gateway, ${Math.min(fixedRate, 100)}/s): ${inferCalls} ModelInfer for ${scores} Score = ` +
      `${((inferCalls / scores - 1) * 100).toFixed(2)}% extra`,
  );
} finally {
  for (const c of [gateway, features, scoring, registry]) c.close();
  await stack.stop();
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import {
  DegradationReason,
  FeatureService,
  FeatureStatus,
  GRPCInferenceService,
  RegistryService,
  RetrainService,
  ScoreService,
} from '@scoregate/contracts';
import { Code, RpcError, createRpcClient, type RpcClient } from '@scoregate/rpc';
import type { ServiceName } from '@scoregate/stack';
import { startE2eStack, type E2eStack } from './stack-fixture.js';

/**
 * What the contract promises under bad input, on the five services as real processes: every
 * request over a service's receive limit is answered RESOURCE_EXHAUSTED on a connection that
 * keeps serving; non-finite values are refused where a client sends them, and the gateway never
 * sends scoring-service a non-finite feature a model does not accept.
 */
let stack: E2eStack;
const clients: { close(): void }[] = [];
const MiB = 1024 * 1024;

beforeAll(async () => {
  stack = await startE2eStack();
});
afterAll(async () => {
  for (const client of clients) client.close();
  await stack?.stop();
});

const cached = new Map<string, unknown>();

/** The one client (one channel) of `service` on `name`, sending messages past any server limit. */
function clientOf<S extends Parameters<typeof createRpcClient>[0]>(
  service: S,
  name: ServiceName,
): RpcClient<S> {
  const key = `${name}/${service.typeName}`;
  if (!cached.has(key)) {
    const client = createRpcClient(service, {
      address: stack.address(name),
      defaultTimeoutMs: 20_000,
      maxSendMessageBytes: 64 * MiB,
      maxReceiveMessageBytes: 64 * MiB,
    });
    clients.push(client);
    cached.set(key, client);
  }
  return cached.get(key) as RpcClient<S>;
}

const failure = (call: Promise<unknown>) =>
  call.then(
    () => undefined,
    (e: unknown) => RpcError.from(e),
  );

/** Per service: its receive limit, a call over it, and a small call on the same client. */
const oversized: [
  ServiceName,
  number,
  (over: string) => Promise<unknown>,
  () => Promise<unknown>,
][] = [
  [
    'gateway',
    MiB,
    (over) =>
      clientOf(ScoreService, 'gateway').score({ scorer: 'truck-roll-priority', requestId: over }),
    () =>
      clientOf(ScoreService, 'gateway').score({
        scorer: 'truck-roll-priority',
        entityKeys: [{ entityType: 'customer', key: 'c-0001' }],
      }),
  ],
  [
    'feature-service',
    4 * MiB,
    (over) =>
      clientOf(FeatureService, 'feature-service').getFeatures({
        entities: [{ entityType: 'customer', key: over }],
        featureRefs: ['customer_stats:plan_tier'],
      }),
    () => clientOf(FeatureService, 'feature-service').listFeatureViews({}),
  ],
  [
    'scoring-service',
    16 * MiB,
    (over) =>
      clientOf(GRPCInferenceService, 'scoring-service').modelInfer({
        modelName: 'truck-roll-logreg',
        id: over,
      }),
    () => clientOf(GRPCInferenceService, 'scoring-service').serverLive({}),
  ],
  [
    'registry-service',
    MiB + 64 * 1024,
    (over) => clientOf(RegistryService, 'registry-service').getModel({ name: over }),
    () => clientOf(RegistryService, 'registry-service').getModel({ name: 'truck-roll-gbt' }),
  ],
  [
    'retrain-service',
    4 * MiB,
    (over) => clientOf(RetrainService, 'retrain-service').getRun({ id: over }),
    () => clientOf(RetrainService, 'retrain-service').getJoinStatus({}),
  ],
];

describe('a request over the receive limit', () => {
  it.each(oversized)(
    '%s answers RESOURCE_EXHAUSTED past %d bytes, and the next call on the connection',
    async (_service, limit, over, small) => {
      const error = await failure(over('x'.repeat(limit + 1024)));
      expect(error?.code).toBe(Code.RESOURCE_EXHAUSTED);
      expect(error?.message).toMatch(
        new RegExp(`^Received message larger than max \\(\\d+ vs ${limit}\\)$`),
      );
      await expect(small()).resolves.toBeDefined();
    },
  );
});

describe('a request under the receive limit', () => {
  it('scoring-service answers a ModelInfer of 12 MiB, whose answer is as large, in full', async () => {
    const rows = (12 * MiB) / 16;
    const reply = await clientOf(GRPCInferenceService, 'scoring-service').modelInfer(
      {
        modelName: 'truck-roll-logreg',
        inputs: [{ name: 'features', datatype: 'FP32', shape: [BigInt(rows), 4n] }],
        rawInputContents: [new Uint8Array(rows * 16)],
        outputs: [{ name: 'probabilities' }],
      },
      { timeoutMs: 60_000 },
    );
    expect(reply.outputs[0]?.shape).toEqual([BigInt(rows), 2n]);
    expect(reply.rawOutputContents[0]?.length).toBe(rows * 8);
  });
});

const customerRow = (key: string, values: Record<string, number | bigint>) => ({
  entity: { entityType: 'customer', key },
  view: 'customer_stats',
  values: Object.fromEntries(
    Object.entries(values).map(([name, value]) => [
      name,
      typeof value === 'bigint'
        ? { kind: { case: 'int64Value' as const, value } }
        : { kind: { case: 'doubleValue' as const, value } },
    ]),
  ),
  eventTime: timestampFromMs(Date.now() - 1000),
});

const allFeatures = (signalSnrDb: number) => ({
  signal_snr_db: signalSnrDb,
  error_rate_1h: 0.02,
  outage_minutes_7d: 12,
  reboots_24h: 1n,
  tickets_30d: 2n,
  modem_age_months: 30n,
  plan_tier: 2n,
  calls_7d: 1n,
});

describe('non-finite values', () => {
  it('WriteFeatures refuses a NaN with INVALID_ARGUMENT naming row and feature, writing no row of the request', async () => {
    const features = clientOf(FeatureService, 'feature-service');
    const error = await failure(
      features.writeFeatures({
        rows: [customerRow('nf-a', allFeatures(20)), customerRow('nf-b', allFeatures(Number.NaN))],
      }),
    );
    expect(error?.code).toBe(Code.INVALID_ARGUMENT);
    expect(error?.message).toBe(
      'rows[1].values["signal_snr_db"]: must be a finite number, got NaN',
    );
    const read = await features.getFeatures({
      entities: [
        { entityType: 'customer', key: 'nf-a' },
        { entityType: 'customer', key: 'nf-b' },
      ],
      featureRefs: ['customer_stats:signal_snr_db'],
    });
    expect(read.results.map((r) => r.values[0]!.status)).toEqual([
      FeatureStatus.MISSING,
      FeatureStatus.MISSING,
    ]);
  });

  it('ModelInfer refuses an infinity for a model whose input accepts finite values only, naming input and element', async () => {
    const scoring = clientOf(GRPCInferenceService, 'scoring-service');
    const error = await failure(
      scoring.modelInfer({
        modelName: 'truck-roll-logreg',
        inputs: [
          {
            name: 'features',
            datatype: 'FP32',
            shape: [1n, 4n],
            contents: { fp32Contents: [1, 2, Infinity, 4] },
          },
        ],
      }),
    );
    expect(error?.code).toBe(Code.INVALID_ARGUMENT);
    expect(error?.message).toMatch(
      /^inputs\[0\]\.contents\.fp32_contents\[2\]: input "features" holds Infinity at element \[0,2\] \(index 2\); model "truck-roll-logreg" version "1" accepts finite values only/,
    );
  });

  it('a stored double beyond the FP32 range skips the model that reads it (FEATURES_MISSING), never failing it nor opening its circuit', async () => {
    const features = clientOf(FeatureService, 'feature-service');
    await features.writeFeatures({ rows: [customerRow('nf-overflow', allFeatures(1e39))] });
    const gateway = clientOf(ScoreService, 'gateway');
    for (let i = 0; i < 30; i++) {
      const reply = await gateway.score({
        scorer: 'truck-roll-priority',
        entityKeys: [{ entityType: 'customer', key: 'nf-overflow' }],
      });
      expect(reply.servedBy?.model).toBe('truck-roll-logreg');
      expect(reply.reasons).toEqual([DegradationReason.FEATURES_MISSING]);
      expect(reply.missingFeatures).toEqual(['customer_stats:signal_snr_db']);
    }
    const healthy = await gateway.score({
      scorer: 'truck-roll-priority',
      entityKeys: [{ entityType: 'customer', key: 'c-0001' }],
    });
    expect(healthy.servedBy?.model).toBe('truck-roll-gbt');
    expect(healthy.degraded).toBe(false);
  });
});

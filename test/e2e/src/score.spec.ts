import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScoreService } from '@scoregate/contracts';
import { Code, RpcError, createRpcClient, type RpcClient } from '@scoregate/rpc';
import {
  demoEntities,
  golden,
  readSpans,
  sleep,
  startE2eStack,
  type E2eStack,
} from './stack-fixture.js';

let stack: E2eStack;
let client: RpcClient<typeof ScoreService>;

beforeAll(async () => {
  stack = await startE2eStack();
  client = createRpcClient(ScoreService, {
    address: stack.address('gateway'),
    defaultTimeoutMs: 10_000,
  });
});
afterAll(async () => {
  client?.close();
  await stack?.stop();
});

describe('Score through the five services', () => {
  it('answers each demo customer with exactly the fixture model golden prediction', async () => {
    const expected = golden.predictions['truck-roll-gbt'];
    expect(demoEntities.length).toBeGreaterThanOrEqual(10);
    for (const [i, entity] of demoEntities.entries()) {
      const reply = await client.score({
        scorer: 'truck-roll-priority',
        entityKeys: [{ entityType: entity.entityType, key: entity.key }],
      });
      // The golden file holds the float32 Python computed, widened to double: equality is exact.
      expect(reply.score).toBe(expected?.probabilities[i]?.[1]);
      const label = reply.outputs.find((o) => o.name === 'label');
      expect(label?.values).toEqual([expected?.label[i]]);
      expect(reply.outputs.find((o) => o.name === 'probabilities')?.shape).toEqual([2n]);
      expect(reply.servedBy).toMatchObject({
        model: 'truck-roll-gbt',
        version: '1',
        alias: 'champion',
      });
      expect(reply.degraded).toBe(false);
      expect(reply.reasons).toEqual([]);
      expect(reply.timings?.stages.map((s) => s.stage)).toEqual([
        'resolve',
        'features',
        'inference',
      ]);
    }
  });

  it('returns a W3C trace id shared by the spans of gateway, feature-service and scoring-service', async () => {
    const reply = await client.score({
      scorer: 'truck-roll-priority',
      entityKeys: [{ entityType: 'customer', key: 'c-0002' }],
    });
    expect(reply.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(reply.traceId).not.toBe('0'.repeat(32));
    let services = new Set<string>();
    for (let i = 0; i < 100 && services.size < 3; i++) {
      services = new Set(
        readSpans(stack.tracesFile)
          .filter((s) => s.traceId === reply.traceId)
          .map((s) => s.serviceName),
      );
      if (services.size < 3) await sleep(100);
    }
    expect([...services].sort()).toEqual(
      expect.arrayContaining(['feature-service', 'gateway', 'scoring-service']),
    );
    const spans = readSpans(stack.tracesFile).filter((s) => s.traceId === reply.traceId);
    // The downstream servers' spans are children of the gateway's client spans: one tree, not three.
    const serverSpans = spans.filter((s) => s.kind === 'SERVER' && s.serviceName !== 'gateway');
    for (const server of serverSpans) {
      expect(spans.find((s) => s.spanId === server.parentSpanId)?.serviceName).toBe('gateway');
    }
  });
});

describe('prediction log (embedded: a local file)', () => {
  it('records every answer with the model version, the features used and the trace id', async () => {
    const reply = await client.score({
      scorer: 'truck-roll-priority',
      entityKeys: [{ entityType: 'customer', key: 'c-0003' }],
      requestId: 'e2e-prediction-log-1',
    });
    type Logged = {
      requestId: string;
      scorer: string;
      servedBy?: { model: string; version: string };
      features?: { ref: string }[];
      traceId?: string;
      score?: number;
    };
    let logged: Logged | undefined;
    for (let i = 0; i < 50 && !logged; i++) {
      const lines = existsSync(stack.predictionsFile)
        ? readFileSync(stack.predictionsFile, 'utf8').split('\n').filter(Boolean)
        : [];
      logged = lines
        .map((l) => JSON.parse(l) as Logged)
        .find((e) => e.requestId === 'e2e-prediction-log-1');
      if (!logged) await sleep(100);
    }
    expect(logged?.scorer).toBe('truck-roll-priority');
    expect(logged?.servedBy).toMatchObject({ model: 'truck-roll-gbt', version: '1' });
    expect(logged?.score).toBe(reply.score);
    expect(logged?.traceId).toBe(reply.traceId);
    expect(logged?.features?.map((f) => f.ref)).toContain('customer_stats:tickets_30d');
  });
});

describe('bad input', () => {
  const score = (request: Parameters<typeof client.score>[0]) =>
    client.score(request).then(
      () => undefined,
      (e: unknown) => RpcError.from(e),
    );

  it('refuses an unknown scorer with NOT_FOUND', async () => {
    const error = await score({
      scorer: 'no-such-scorer',
      entityKeys: [{ entityType: 'customer', key: 'c-0001' }],
    });
    expect(error?.code).toBe(Code.NOT_FOUND);
    expect(error?.message).toBe('scorer "no-such-scorer" not found');
  });

  it.each([
    [
      'a missing scorer',
      { entityKeys: [{ entityType: 'customer', key: 'c-0001' }] },
      'scorer: is required (e.g. "truck-roll-priority")',
    ],
    [
      'no entity key',
      { scorer: 'truck-roll-priority' },
      'entity_keys: at least one entity key is required',
    ],
    [
      'an empty entity key',
      { scorer: 'truck-roll-priority', entityKeys: [{ entityType: 'customer', key: '' }] },
      'entity_keys[0].key: is required',
    ],
    [
      'an entity key with control characters',
      { scorer: 'truck-roll-priority', entityKeys: [{ entityType: 'customer', key: 'c-\u00001' }] },
      'entity_keys[0].key: must not contain control characters',
    ],
    [
      'an entity key over 256 bytes',
      {
        scorer: 'truck-roll-priority',
        entityKeys: [{ entityType: 'customer', key: 'k'.repeat(300) }],
      },
      'entity_keys[0].key: is 300 bytes; at most 256',
    ],
    [
      'a NaN request feature',
      {
        scorer: 'truck-roll-priority',
        entityKeys: [{ entityType: 'customer', key: 'c-0001' }],
        requestFeatures: {
          'customer_stats:signal_snr_db': { kind: { case: 'doubleValue' as const, value: NaN } },
        },
      },
      'request_features["customer_stats:signal_snr_db"].double_value: must be finite, got NaN',
    ],
    [
      'an infinite request feature',
      {
        scorer: 'truck-roll-priority',
        entityKeys: [{ entityType: 'customer', key: 'c-0001' }],
        requestFeatures: {
          signal_snr_db: { kind: { case: 'doubleValue' as const, value: -Infinity } },
        },
      },
      'request_features["signal_snr_db"].double_value: must be finite, got -Infinity',
    ],
    [
      'a malformed request feature name',
      {
        scorer: 'truck-roll-priority',
        entityKeys: [{ entityType: 'customer', key: 'c-0001' }],
        requestFeatures: { 'Bad Ref!!': { kind: { case: 'doubleValue' as const, value: 1 } } },
      },
      'request_features["Bad Ref!!"]: is not a feature ref (`view:feature`) nor a feature name',
    ],
    [
      'a request feature no model of the scorer reads',
      {
        scorer: 'truck-roll-priority',
        entityKeys: [{ entityType: 'customer', key: 'c-0001' }],
        requestFeatures: { x: { kind: { case: 'doubleValue' as const, value: 1 } } },
      },
      /^request_features\["x"\]: is not an input of any model of scorer "truck-roll-priority" \(its inputs: customer_stats:/,
    ],
    [
      'an entity type the scorer does not score',
      { scorer: 'truck-roll-priority', entityKeys: [{ entityType: 'site', key: 's-1' }] },
      'entity_keys: scorer "truck-roll-priority" scores "customer" entities; no key of that type was given',
    ],
  ])('refuses %s with INVALID_ARGUMENT naming the field', async (_case, request, message) => {
    const error = await score(request);
    expect(error?.code).toBe(Code.INVALID_ARGUMENT);
    if (typeof message === 'string') expect(error?.message).toBe(message);
    else expect(error?.message).toMatch(message);
  });

  it('answers with a finite request feature given by bare name, not degraded', async () => {
    const reply = await client.score({
      scorer: 'truck-roll-priority',
      entityKeys: [{ entityType: 'customer', key: 'c-0001' }],
      requestFeatures: { signal_snr_db: { kind: { case: 'doubleValue' as const, value: 12.5 } } },
    });
    expect(reply.degraded).toBe(false);
    expect(reply.servedBy?.model).toBe('truck-roll-gbt');
  });

  it('refuses a message over the size limit with RESOURCE_EXHAUSTED and keeps serving', async () => {
    const error = await score({
      scorer: 'truck-roll-priority',
      entityKeys: [{ entityType: 'customer', key: 'c-0001' }],
      requestId: 'x'.repeat(2 * 1024 * 1024),
    });
    expect(error?.code).toBe(Code.RESOURCE_EXHAUSTED);
    const reply = await client.score({
      scorer: 'truck-roll-priority',
      entityKeys: [{ entityType: 'customer', key: 'c-0001' }],
    });
    expect(reply.servedBy?.model).toBe('truck-roll-gbt');
  });

  it('answers a customer without stored features from the default answer, and says so', async () => {
    const reply = await client.score({
      scorer: 'truck-roll-priority',
      entityKeys: [{ entityType: 'customer', key: 'unknown-customer' }],
    });
    expect(reply.degraded).toBe(true);
    expect(reply.score).toBe(0.3);
    expect(reply.servedBy?.alias).toBe('default');
    expect(reply.missingFeatures).toContain('customer_stats:tickets_30d');
  });
});

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { timestampFromMs, timestampMs } from '@bufbuild/protobuf/wkt';
import { FeatureService, FeatureStatus } from '@scoregate/contracts';
import { checkHealth, Code, createRpcClient, RpcError, type RpcClient } from '@scoregate/rpc';
import { startService, type RunningService } from '@scoregate/stack';
import { startPrivateRedis, type PrivateRedis } from '@scoregate/test-servers';

/**
 * The real feature-service process on a private Redis that the test kills and starts again:
 * while Redis is down, every GetFeatures fails fast with UNAVAILABLE and the process stays up;
 * once Redis is back, answers are correct again within 2 s, without restarting the service.
 */
const root = fileURLToPath(new URL('../../..', import.meta.url));
const entry = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let redis: PrivateRedis;
let service: RunningService | undefined;
let address: string;
let client: RpcClient<typeof FeatureService>;
const output: string[] = [];

beforeAll(async () => {
  // The process under test runs the built service; build it (incremental, a no-op when current).
  await promisify(execFile)('npx', ['tsc', '-b', 'apps/feature-service/tsconfig.lib.json'], {
    cwd: root,
  }).catch((error: { stdout?: string; message: string }) => {
    throw new Error(`building feature-service failed: ${error.stdout ?? error.message}`);
  });
  expect(existsSync(entry)).toBe(true);

  redis = await startPrivateRedis({ persistent: true });
  service = await startService({
    name: 'feature-service',
    port: 0,
    env: { FEATURE_STORE: 'redis', REDIS_URL: redis.url },
    onOutput: (line) => output.push(line),
  });
  address = service.address;
  client = createRpcClient(FeatureService, { address, defaultTimeoutMs: 5_000 });
});

afterAll(async () => {
  client?.close();
  await service?.stop();
  await redis?.dispose();
});

const customers = Array.from({ length: 10 }, (_, i) => ({
  entityType: 'customer',
  key: `c-${String(i).padStart(4, '0')}`,
}));
const refs = ['customer_stats:tickets_30d', 'customer_stats:signal_snr_db'];
const eventTimeMs = Date.now() - 60_000;

async function readAll() {
  return client.getFeatures({ entities: customers, featureRefs: refs }, { timeoutMs: 1_000 });
}

function expectWrittenValues(response: Awaited<ReturnType<typeof readAll>>): void {
  expect(response.results).toHaveLength(customers.length);
  response.results.forEach((result, i) => {
    const [tickets, snr] = result.values;
    expect(tickets!.status).toBe(FeatureStatus.OK);
    expect(tickets!.value?.kind).toEqual({ case: 'int64Value', value: BigInt(i) });
    expect(snr!.value?.kind).toEqual({ case: 'doubleValue', value: i + 0.5 });
    expect(timestampMs(tickets!.eventTime!)).toBe(eventTimeMs);
  });
}

describe('feature-service process with Redis stopped and started again', () => {
  it('answers every GetFeatures within 20 ms with UNAVAILABLE while Redis is down, stays SERVING, and answers correctly within 2 s once Redis is back', async () => {
    const written = await client.writeFeatures({
      rows: customers.map((entity, i) => ({
        entity,
        view: 'customer_stats',
        values: {
          tickets_30d: { kind: { case: 'int64Value', value: BigInt(i) } },
          signal_snr_db: { kind: { case: 'doubleValue', value: i + 0.5 } },
        },
        eventTime: timestampFromMs(eventTimeMs),
      })),
    });
    expect(written).toMatchObject({ applied: 10, skippedOlder: 0 });
    expectWrittenValues(await readAll());

    await redis.stop();

    // Every call must fail fast with UNAVAILABLE, far inside its 1 s deadline: a service that
    // waited on Redis (its connect timeout, or the deadline) fails that at once. The 20 ms bound
    // is judged against a floor measured at the same moment: each GetFeatures is paired with a
    // ListFeatureViews, the same round trip to the same process without the store. On this
    // shared 2-core machine (load average often 5-10) other suites stall both processes for
    // 30-150 ms a few times a second whatever they do; those stalls hit the floor as much.
    const STALL_MS = 20;
    const get: number[] = [];
    const floor: number[] = [];
    for (let i = 0; i < 200; i++) {
      let started = performance.now();
      const error = await readAll().then(
        () => undefined,
        (e: unknown) => e,
      );
      get.push(performance.now() - started);
      expect(error).toBeInstanceOf(RpcError);
      expect((error as RpcError).code).toBe(Code.UNAVAILABLE);
      expect((error as RpcError).message).toMatch(
        new RegExp(`^feature store unavailable: Redis at ${redis.url} is not connected \\(`),
      );
      started = performance.now();
      await client.listFeatureViews({}, { timeoutMs: 1_000 });
      floor.push(performance.now() - started);
    }
    const stats = (ms: number[]) => {
      const sorted = [...ms].sort((a, b) => a - b);
      return {
        p50: Math.round(sorted[99]! * 10) / 10,
        p99: Math.round(sorted[197]! * 10) / 10,
        max: Math.round(sorted[199]! * 10) / 10,
        over20: ms.filter((t) => t >= STALL_MS).length,
      };
    };
    const figures = `GetFeatures ${JSON.stringify(stats(get))}, floor ${JSON.stringify(stats(floor))}`;
    expect(stats(get).max, figures).toBeLessThan(250);
    expect(stats(get).p50, figures).toBeLessThan(10);
    // Over 20 ms only as often as the floor is, give or take 2% of the calls (a stall falls on
    // one call of a pair and not the other).
    expect(stats(get).over20, figures).toBeLessThanOrEqual(stats(floor).over20 + 4);
    const writeError = await client
      .writeFeatures({
        rows: [
          {
            entity: customers[0]!,
            view: 'customer_stats',
            values: { tickets_30d: { kind: { case: 'int64Value', value: 99n } } },
            eventTime: timestampFromMs(eventTimeMs + 1),
          },
        ],
      })
      .catch((e: unknown) => e);
    expect((writeError as RpcError).code).toBe(Code.UNAVAILABLE);
    expect(await checkHealth(address, '', 1_000)).toBe('SERVING');
    expect(service!.process.exitCode).toBeNull();

    await redis.start();
    const back = performance.now();
    let response: Awaited<ReturnType<typeof readAll>> | undefined;
    while (performance.now() - back < 5_000) {
      response = await readAll().catch(() => undefined);
      if (response) break;
      await sleep(20);
    }
    const recoveredMs = performance.now() - back;
    expect(response, 'no answer within 5 s of Redis coming back').toBeDefined();
    expect(recoveredMs).toBeLessThan(2_000);
    expectWrittenValues(response!);
    expect(service!.process.exitCode).toBeNull();
    expect(output.join('\n')).toContain('lost the connection to Redis');
  });
});

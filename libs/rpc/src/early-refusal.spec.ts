import { afterEach, describe, expect, it } from 'vitest';
import { ScoreService } from '@scoregate/contracts';
import type { DescMethod } from '@bufbuild/protobuf';
import {
  Code,
  RpcError,
  checkHealth,
  createRpcClient,
  createRpcServer,
  type EarlyRefusal,
  type ServerInterceptor,
} from './index.js';

const silent = { info() {}, warn() {}, error() {} };
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function start(refuseEarly: EarlyRefusal) {
  const seen = { handler: 0, interceptor: 0 };
  const counting: ServerInterceptor = async (_call, next) => {
    seen.interceptor++;
    await next();
  };
  const server = createRpcServer({
    name: 'test',
    logger: silent,
    interceptors: [counting],
    refuseEarly,
  });
  server.register(ScoreService, {
    score: () => {
      seen.handler++;
      return { requestId: 'ok' };
    },
    scoreBatch: () => ({}),
  });
  const port = await server.listen('127.0.0.1:0');
  cleanups.push(() => server.shutdown({ drainDelayMs: 0, graceMs: 1000 }));
  const address = `127.0.0.1:${port}`;
  const client = createRpcClient(ScoreService, { address });
  cleanups.push(() => client.close());
  return { seen, client, address };
}

describe('refuseEarly', () => {
  it('answers a refused call with its status before interceptors or the handler run', async () => {
    const { seen, client } = await start(
      () => new RpcError(Code.RESOURCE_EXHAUSTED, 'too busy right now'),
    );
    const error = await client.score({ scorer: 's' }).catch((e: unknown) => RpcError.from(e));
    expect(error).toMatchObject({ code: Code.RESOURCE_EXHAUSTED, message: 'too busy right now' });
    expect(seen).toEqual({ handler: 0, interceptor: 0 });
  });

  it('lets an admitted call through, and passes the method and the time left to the deadline', async () => {
    const asked: { method: DescMethod; remainingMs: number }[] = [];
    const { seen, client } = await start((method, remainingMs) => {
      asked.push({ method, remainingMs });
      return undefined;
    });
    expect(await client.score({ scorer: 's' }, { timeoutMs: 500 })).toMatchObject({
      requestId: 'ok',
    });
    await client.score({ scorer: 's' });
    expect(seen).toEqual({ handler: 2, interceptor: 2 });
    expect(asked[0]?.method.name).toBe('Score');
    expect(asked[0]?.remainingMs).toBeGreaterThan(300);
    expect(asked[0]?.remainingMs).toBeLessThanOrEqual(500);
    expect(asked[1]?.remainingMs).toBe(Infinity);
  });

  it('never refuses health checks', async () => {
    const { address } = await start(() => new RpcError(Code.RESOURCE_EXHAUSTED, 'no'));
    expect(await checkHealth(address, '', 1_000)).toBe('SERVING');
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { ScoreService } from '@scoregate/contracts';
import { Code, RpcError, createRpcClient, createRpcServer } from './index.js';

const silent = { info() {}, warn() {}, error() {} };
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

describe('a client whose calls miss their deadlines', () => {
  // Each call that runs out of time is cancelled with an HTTP/2 RST_STREAM. nghttp2's rapid-reset
  // guard, left at its defaults (a burst of 1,000, then 33 a second), answers a client that
  // cancels more with GOAWAY(INTERNAL_ERROR): every call in flight on that connection fails
  // INTERNAL, the healthy ones too. A caller with a tight deadline under load does exactly that.
  it('keeps its connection: 2,500 calls cancelled at their deadline in a few seconds, and the calls beside them succeed', async () => {
    const server = createRpcServer({ name: 'test', logger: silent });
    server.register(ScoreService, {
      score: async (request) => {
        await new Promise((resolve) => setTimeout(resolve, request.scorer === 'slow' ? 200 : 1));
        return { score: 1 };
      },
      scoreBatch: async () => ({}),
    });
    const port = await server.listen('127.0.0.1:0');
    cleanups.push(() => server.shutdown({ drainDelayMs: 0, graceMs: 1000 }));
    const client = createRpcClient(ScoreService, { address: `127.0.0.1:${port}` });
    cleanups.push(() => client.close());
    await client.waitForReady(5_000);

    const statuses = new Map<string, number>();
    const count = (outcome: string) => {
      statuses.set(outcome, (statuses.get(outcome) ?? 0) + 1);
    };
    const call = (scorer: string, timeoutMs: number) =>
      client.score({ scorer }, { timeoutMs }).then(
        () => count(`${scorer}:OK`),
        (error: unknown) => count(`${scorer}:${Code[RpcError.from(error).code]}`),
      );
    const calls: Promise<void>[] = [];
    for (let wave = 0; wave < 25; wave++) {
      for (let i = 0; i < 100; i++) calls.push(call('slow', 5));
      for (let i = 0; i < 4; i++) calls.push(call('fast', 5_000));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await Promise.all(calls);

    expect(Object.fromEntries(statuses)).toEqual({
      'slow:DEADLINE_EXCEEDED': 2_500,
      'fast:OK': 100,
    });
  }, 60_000);
});

import { afterEach, describe, expect, it } from 'vitest';
import { ScoreService } from '@scoregate/contracts';
import { Code, RpcError, createRpcClient, createRpcServer } from './index.js';

const silent = { info() {}, warn() {}, error() {} };
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

/** A server whose Score refuses a bad scorer by quoting it whole, as validation messages do. */
async function quotingServer() {
  const server = createRpcServer({ name: 'test', logger: silent });
  server.register(ScoreService, {
    async score(request) {
      if (request.scorer.startsWith('ok')) return { score: 1 };
      throw RpcError.invalidArgument('scorer', `"${request.scorer}" is not a valid name`);
    },
    scoreBatch: async () => ({}),
  });
  const port = await server.listen('127.0.0.1:0');
  cleanups.push(() => server.shutdown({ drainDelayMs: 0, graceMs: 1000 }));
  const client = createRpcClient(ScoreService, { address: `127.0.0.1:${port}` });
  cleanups.push(() => client.close());
  return client;
}

describe('a status whose message quotes a huge client input', () => {
  it('reaches the client with its code and a shortened message, and spares the other calls of the connection', async () => {
    const client = await quotingServer();
    const huge = 'é'.repeat(40_000);
    const others = Array.from({ length: 5 }, (_, i) => client.score({ scorer: `ok-${i}` }));
    const refused = await client.score({ scorer: huge }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RpcError);
    const error = refused as RpcError;
    expect(Code[error.code], error.message.slice(0, 200)).toBe('INVALID_ARGUMENT');
    expect(error.message).toMatch(/^scorer: "éé/);
    expect(error.message).toMatch(/… \(cut: \d+ more bytes\)$/);
    expect(Buffer.byteLength(error.message)).toBeLessThanOrEqual(1200);
    expect(error.violations).toHaveLength(1);
    expect(error.violations[0]!.field).toBe('scorer');
    expect(Buffer.byteLength(error.violations[0]!.description)).toBeLessThanOrEqual(1200);
    expect((await Promise.all(others)).map((reply) => reply.score)).toEqual([1, 1, 1, 1, 1]);
  });
});

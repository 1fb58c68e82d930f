import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { afterEach, describe, expect, it } from 'vitest';
import {
  RegistryService,
  ScoreRequestSchema,
  ScoreResponseSchema,
  ScoreService,
  UploadModelVersionRequestSchema,
  UploadModelVersionResponseSchema,
  WatchRequestSchema,
  WatchResponseSchema,
} from '@scoregate/contracts';
import { Code, RpcError, createRawClient, createRpcServer, type ServiceHandlers } from './index.js';

const silent = { info() {}, warn() {}, error() {} };
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

const notUsed = () => {
  throw new RpcError(Code.UNIMPLEMENTED, 'not used');
};

async function serve() {
  const server = createRpcServer({ name: 'test', logger: silent });
  server.register(ScoreService, {
    score: async (request) => ({ score: request.scorer.length }),
    scoreBatch: notUsed,
  });
  server.register(RegistryService, {
    ...(Object.fromEntries(
      RegistryService.methods.map((m) => [m.localName, notUsed]),
    ) as unknown as ServiceHandlers<typeof RegistryService>),
    async *watch(request) {
      for (let i = 1n; ; i++) yield { revision: request.fromRevision + i };
    },
    async uploadModelVersion(requests) {
      let chunks = 0;
      for await (const message of requests) if (message.content.case === 'chunk') chunks++;
      return { revision: BigInt(chunks) };
    },
  });
  const port = await server.listen('127.0.0.1:0');
  cleanups.push(() => server.shutdown({ drainDelayMs: 0, graceMs: 1000 }));
  const client = createRawClient({ address: `127.0.0.1:${port}` });
  cleanups.push(() => client.close());
  return client;
}

describe('the raw-bytes client', () => {
  it('sends request bytes as given and returns the response bytes undecoded', async () => {
    const client = await serve();
    const request = toBinary(ScoreRequestSchema, create(ScoreRequestSchema, { scorer: 'abc' }));
    const answer = await client.unary('/scoregate.gateway.v1.ScoreService/Score', request, {
      timeoutMs: 5000,
    });
    expect(answer.code).toBe(Code.OK);
    expect(fromBinary(ScoreResponseSchema, answer.messages[0]!).score).toBe(3);

    const garbage = new Uint8Array([0x0a, 0xff, 0xff, 0x03, 0x01]);
    const refused = await client.unary('/scoregate.gateway.v1.ScoreService/Score', garbage, {
      timeoutMs: 5000,
    });
    expect(refused.code).toBe(Code.INVALID_ARGUMENT);
    expect(refused.messages).toEqual([]);
  });

  it('streams requests to the end, and cancels a response stream after maxMessages', async () => {
    const client = await serve();
    const chunk = toBinary(
      UploadModelVersionRequestSchema,
      create(UploadModelVersionRequestSchema, {
        content: { case: 'chunk', value: new Uint8Array(8) },
      }),
    );
    const uploaded = await client.clientStream(
      '/scoregate.registry.v1.RegistryService/UploadModelVersion',
      [chunk, chunk, chunk],
      { timeoutMs: 5000 },
    );
    expect(uploaded.code).toBe(Code.OK);
    expect(fromBinary(UploadModelVersionResponseSchema, uploaded.messages[0]!).revision).toBe(3n);

    const watched = await client.serverStream(
      '/scoregate.registry.v1.RegistryService/Watch',
      toBinary(WatchRequestSchema, create(WatchRequestSchema, { fromRevision: 10n })),
      { timeoutMs: 5000, maxMessages: 2 },
    );
    expect(watched.code).toBe(Code.OK);
    expect(watched.messages.map((m) => fromBinary(WatchResponseSchema, m).revision)).toEqual([
      11n,
      12n,
    ]);
  });

  it('reports a status the server never sent: an unknown method, a deadline that passed', async () => {
    const client = await serve();
    const unknown = await client.unary('/no.Such/Method', new Uint8Array(), { timeoutMs: 5000 });
    expect(unknown.code).toBe(Code.UNIMPLEMENTED);
    const late = await client.serverStream(
      '/scoregate.registry.v1.RegistryService/Watch',
      new Uint8Array(),
      { timeoutMs: 50 },
    );
    expect(late.code).toBe(Code.DEADLINE_EXCEEDED);
    expect(late.messages.length).toBeGreaterThan(0);
  });
});

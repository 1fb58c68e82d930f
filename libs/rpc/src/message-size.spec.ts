import { connect, constants, type ClientHttp2Session } from 'node:http2';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { create, toBinary } from '@bufbuild/protobuf';
import { RegistryService, ScoreRequestSchema, ScoreService } from '@scoregate/contracts';
import {
  Code,
  RpcError,
  createRpcClient,
  createRpcServer,
  type RpcServer,
  type ServiceHandlers,
} from './index.js';
import { healthProbe } from './testing/grpc-probes.js';

/**
 * A request over the server's receive limit is answered RESOURCE_EXHAUSTED by the bridge's
 * server (grpc-js checks the limit against the message's length prefix, and again while
 * inflating a compressed message), before any handler or interceptor runs, whatever the method
 * kind — and the connection keeps serving.
 */
const LIMIT = 1024;
const silent = { info() {}, warn() {}, error() {} };
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

const notUsed = () => {
  throw RpcError.unimplemented('not used in this test');
};

/** A server with the limit, serving Score (echoing the request id's length) and uploads. */
async function serveWithLimit(): Promise<{ address: string; handled: string[] }> {
  const handled: string[] = [];
  const server: RpcServer = createRpcServer({
    name: 'size-test',
    logger: silent,
    maxReceiveMessageBytes: LIMIT,
    interceptors: [
      async (call, next) => {
        handled.push(`/${call.method.parent.typeName}/${call.method.name}`);
        return next();
      },
    ],
  });
  server.register(ScoreService, {
    score: (request) => ({ requestId: String(request.requestId.length) }),
    scoreBatch: notUsed,
  });
  const uploads: ServiceHandlers<typeof RegistryService>['uploadModelVersion'] = async (
    requests,
  ) => {
    for await (const request of requests) void request;
    return {};
  };
  server.register(RegistryService, {
    ...(Object.fromEntries(
      RegistryService.methods.map((m) => [m.localName, notUsed]),
    ) as unknown as ServiceHandlers<typeof RegistryService>),
    uploadModelVersion: uploads,
  });
  const port = await server.listen('127.0.0.1:0');
  cleanups.push(() => server.shutdown({ drainDelayMs: 0, graceMs: 1000 }));
  return { address: `127.0.0.1:${port}`, handled };
}

/** One raw gRPC call over HTTP/2: the body as given, the status and message from the trailers. */
function rawCall(
  session: ClientHttp2Session,
  path: string,
  body: Buffer,
  headers: Record<string, string> = {},
): Promise<{ code: number; message: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const stream = session.request({
      [constants.HTTP2_HEADER_METHOD]: 'POST',
      [constants.HTTP2_HEADER_PATH]: path,
      [constants.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
      te: 'trailers',
      ...headers,
    });
    let status: { code: number; message: string } | undefined;
    const fromHeaders = (h: Record<string, unknown>) => {
      if (h['grpc-status'] !== undefined)
        status = {
          code: Number(h['grpc-status']),
          message: decodeURIComponent(String(h['grpc-message'] ?? '')),
        };
    };
    stream.on('response', fromHeaders);
    stream.on('trailers', fromHeaders);
    stream.on('data', () => undefined);
    stream.on('error', () => undefined);
    stream.on('close', () =>
      status
        ? resolve({ ...status, ms: Date.now() - started })
        : reject(new Error(`no gRPC status (RST_STREAM ${stream.rstCode})`)),
    );
    stream.end(body);
  });
}

/** A gRPC length-prefixed frame: flag (1 = compressed), 4-byte big-endian length, then bytes. */
function frame(message: Uint8Array, compressed = false, claimedLength = message.length): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt8(compressed ? 1 : 0, 0);
  prefix.writeUInt32BE(claimedLength, 1);
  return Buffer.concat([prefix, message]);
}

const scoreRequest = (idBytes: number) =>
  toBinary(ScoreRequestSchema, create(ScoreRequestSchema, { requestId: 'x'.repeat(idBytes) }));

function session(address: string): ClientHttp2Session {
  const http2 = connect(`http://${address}`);
  http2.on('error', () => undefined);
  cleanups.push(() => void http2.close());
  return http2;
}

describe('a request over the receive limit', () => {
  it('gets RESOURCE_EXHAUSTED naming its size and the limit on a unary call; the same client then gets answers', async () => {
    const { address, handled } = await serveWithLimit();
    const client = createRpcClient(ScoreService, { address, maxSendMessageBytes: 64 * LIMIT });
    cleanups.push(() => client.close());
    const error = (await client
      .score({ requestId: 'x'.repeat(4 * LIMIT) })
      .catch((e: unknown) => e)) as RpcError;
    expect(error.code).toBe(Code.RESOURCE_EXHAUSTED);
    expect(error.message).toMatch(/^Received message larger than max \(\d+ vs 1024\)$/);
    expect(handled).toEqual([]);
    expect((await client.score({ requestId: 'x'.repeat(LIMIT - 16) })).requestId).toBe(
      String(LIMIT - 16),
    );
  });

  it('gets RESOURCE_EXHAUSTED when one message of a client stream is over it', async () => {
    const { address, handled } = await serveWithLimit();
    const client = createRpcClient(RegistryService, { address });
    cleanups.push(() => client.close());
    const error = (await client
      .uploadModelVersion([
        { content: { case: 'chunk', value: new Uint8Array(16) } },
        { content: { case: 'chunk', value: new Uint8Array(4 * LIMIT) } },
      ])
      .catch((e: unknown) => e)) as RpcError;
    expect(error.code).toBe(Code.RESOURCE_EXHAUSTED);
    expect(handled).toEqual(['/scoregate.registry.v1.RegistryService/UploadModelVersion']);
  });

  it('gets RESOURCE_EXHAUSTED at once from its length prefix, without the server waiting for the body', async () => {
    const { address, handled } = await serveWithLimit();
    const http2 = session(address);
    // Claims 4 GiB - 1 and sends 5 bytes of it: answered from the prefix.
    const reply = await rawCall(
      http2,
      '/scoregate.gateway.v1.ScoreService/Score',
      frame(new Uint8Array(5), false, 0xffffffff),
    );
    expect(reply.code).toBe(Code.RESOURCE_EXHAUSTED);
    expect(reply.message).toBe('Received message larger than max (4294967295 vs 1024)');
    expect(reply.ms).toBeLessThan(2000);
    const next = await rawCall(
      http2,
      '/scoregate.gateway.v1.ScoreService/Score',
      frame(scoreRequest(10)),
    );
    expect(next.code).toBe(Code.OK);
    expect(handled).toEqual(['/scoregate.gateway.v1.ScoreService/Score']);
  });

  it('gets RESOURCE_EXHAUSTED when a small gzip message inflates past it', async () => {
    const { address, handled } = await serveWithLimit();
    const http2 = session(address);
    const bomb = gzipSync(scoreRequest(64 * LIMIT));
    expect(bomb.length).toBeLessThan(LIMIT);
    const reply = await rawCall(
      http2,
      '/scoregate.gateway.v1.ScoreService/Score',
      frame(bomb, true),
      {
        'grpc-encoding': 'gzip',
      },
    );
    expect(reply.code).toBe(Code.RESOURCE_EXHAUSTED);
    expect(reply.message).toBe('Received message that decompresses to a size larger than 1024');
    expect(handled).toEqual([]);
  });

  it('gets RESOURCE_EXHAUSTED from the health service on the same server too', async () => {
    const { address } = await serveWithLimit();
    const http2 = session(address);
    const reply = await rawCall(
      http2,
      '/grpc.health.v1.Health/Check',
      frame(new Uint8Array(2 * LIMIT)),
    );
    expect(reply.code).toBe(Code.RESOURCE_EXHAUSTED);
    const health = healthProbe(address);
    cleanups.push(() => health.close());
    expect(await health.check()).toBe('SERVING');
  });
});

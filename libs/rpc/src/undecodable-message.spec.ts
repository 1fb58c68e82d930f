import { Client, credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { RegistryService, ScoreService } from '@scoregate/contracts';
import {
  Code,
  RpcError,
  createRawClient,
  createRpcServer,
  type ServerInterceptor,
} from './index.js';

const silent = { info() {}, warn() {}, error() {} };
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

/** Bytes that no protobuf message decodes: field 1, length-delimited, longer than the payload. */
const garbage = Buffer.from([0x0a, 0xff, 0xff, 0x03, 0x01]);

async function serve(interceptors: ServerInterceptor[] = []) {
  const handled: string[] = [];
  const server = createRpcServer({ name: 'test', logger: silent, interceptors });
  server.register(ScoreService, {
    score: async () => {
      handled.push('score');
      return { score: 1 };
    },
    scoreBatch: async () => ({}),
  });
  const port = await server.listen('127.0.0.1:0');
  cleanups.push(() => server.shutdown({ drainDelayMs: 0, graceMs: 1000 }));
  const raw = createRawClient({ address: `127.0.0.1:${port}` });
  cleanups.push(() => raw.close());
  return { raw, handled, port };
}

describe('a request that cannot be decoded', () => {
  it('is answered INVALID_ARGUMENT naming the request type, and never reaches the handler', async () => {
    const { raw, handled } = await serve();
    const answer = await raw.unary('/scoregate.gateway.v1.ScoreService/Score', garbage, {
      timeoutMs: 5_000,
    });
    expect(answer.code).toBe(Code.INVALID_ARGUMENT);
    expect(answer.details).toMatch(
      /^request: cannot be decoded as scoregate\.gateway\.v1\.ScoreRequest: /,
    );
    expect(handled).toEqual([]);
  });

  it('still passes the interceptors first, so an unauthenticated caller learns nothing more', async () => {
    const refuse: ServerInterceptor = async () => {
      throw new RpcError(Code.UNAUTHENTICATED, 'no credential');
    };
    const { raw } = await serve([refuse]);
    const answer = await raw.unary('/scoregate.gateway.v1.ScoreService/Score', garbage, {
      timeoutMs: 5_000,
    });
    expect(answer.code).toBe(Code.UNAUTHENTICATED);
  });

  it('in a request stream, ends the call INVALID_ARGUMENT at the undecodable message', async () => {
    const server = createRpcServer({ name: 'test', logger: silent });
    const received: unknown[] = [];
    const notUsed = () => {
      throw RpcError.unimplemented('not used');
    };
    server.register(RegistryService, {
      ...Object.fromEntries(RegistryService.methods.map((m) => [m.localName, notUsed])),
      uploadModelVersion: async (requests: AsyncIterable<unknown>) => {
        for await (const request of requests) received.push(request);
        return {};
      },
    } as never);
    const port = await server.listen('127.0.0.1:0');
    cleanups.push(() => server.shutdown({ drainDelayMs: 0, graceMs: 1000 }));
    const raw = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
    cleanups.push(() => raw.close());
    const error = await new Promise<ServiceError>((resolve, reject) => {
      const call = raw.makeClientStreamRequest(
        '/scoregate.registry.v1.RegistryService/UploadModelVersion',
        (bytes: Buffer) => bytes,
        (bytes: Buffer) => bytes,
        new Metadata(),
        { deadline: Date.now() + 5_000 },
        (e) => (e ? resolve(e) : reject(new Error('the call succeeded'))),
      );
      call.write(Buffer.alloc(0)); // an empty message decodes (all defaults)
      call.write(garbage);
      call.end();
    });
    expect(error.code).toBe(Code.INVALID_ARGUMENT);
    expect(error.details).toMatch(/^request: cannot be decoded as /);
    expect(received).toHaveLength(1);
  });
});

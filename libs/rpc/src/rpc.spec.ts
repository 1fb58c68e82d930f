import { afterEach, describe, expect, it } from 'vitest';
import { create } from '@bufbuild/protobuf';
import {
  RegistryService,
  ScoreService,
  ScoreResponseSchema,
  type ScoreRequest,
} from '@scoregate/contracts';
import {
  Code,
  RpcError,
  annotateCall,
  createRpcClient,
  createRpcServer,
  type RpcServer,
  type ServiceHandlers,
} from './index.js';
import { healthProbe, reflectionProbe } from './testing/grpc-probes.js';

const silent = { info() {}, warn() {}, error() {} };
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function serve(
  register: (server: RpcServer) => void,
  options: { maxReceiveMessageBytes?: number } = {},
): Promise<{ server: RpcServer; address: string }> {
  const server = createRpcServer({ name: 'test', logger: silent, ...options });
  register(server);
  const port = await server.listen('127.0.0.1:0');
  cleanups.push(() => server.shutdown({ drainDelayMs: 0, graceMs: 1000 }));
  return { server, address: `127.0.0.1:${port}` };
}

function scoreClient(address: string) {
  const client = createRpcClient(ScoreService, { address });
  cleanups.push(() => client.close());
  return client;
}

const notUsed = () => {
  throw RpcError.unimplemented('not used in this test');
};

function scoreHandlers(
  score: ServiceHandlers<typeof ScoreService>['score'],
): ServiceHandlers<typeof ScoreService> {
  return { score, scoreBatch: notUsed };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('typed unary calls', () => {
  it('round-trips a request and a response through protobuf over a real socket', async () => {
    let seen: ScoreRequest | undefined;
    const { address } = await serve((s) =>
      s.register(
        ScoreService,
        scoreHandlers((request) => {
          seen = request;
          return {
            score: 0.25,
            requestId: request.requestId,
            servedBy: { model: 'm', version: '3' },
          };
        }),
      ),
    );
    const reply = await scoreClient(address).score({
      scorer: 'truck-roll-priority',
      entityKeys: [{ entityType: 'customer', key: 'c-1' }],
      requestId: 'r-1',
    });
    expect(seen?.entityKeys[0]?.key).toBe('c-1');
    expect(reply.$typeName).toBe(ScoreResponseSchema.typeName);
    expect(reply.score).toBe(0.25);
    expect(reply.servedBy?.version).toBe('3');
    expect(reply.requestId).toBe('r-1');
  });

  it('carries the status code, message and field violations of an RpcError to the client', async () => {
    const { address } = await serve((s) =>
      s.register(
        ScoreService,
        scoreHandlers(() =>
          Promise.reject(RpcError.invalidArgument('scorer', 'must not be empty')),
        ),
      ),
    );
    const error = await scoreClient(address)
      .score({})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RpcError);
    expect((error as RpcError).code).toBe(Code.INVALID_ARGUMENT);
    expect((error as RpcError).message).toBe('scorer: must not be empty');
    expect((error as RpcError).violations).toEqual([
      { field: 'scorer', description: 'must not be empty' },
    ]);
  });

  it('turns an unexpected exception into INTERNAL without leaking its message', async () => {
    const { address } = await serve((s) =>
      s.register(
        ScoreService,
        scoreHandlers(() => Promise.reject(new Error('secret stack detail'))),
      ),
    );
    const error = (await scoreClient(address)
      .score({})
      .catch((e: unknown) => e)) as RpcError;
    expect(error.code).toBe(Code.INTERNAL);
    expect(error.message).toBe('internal error');
  });

  it('writes the fields an interceptor annotated the call with on its INTERNAL error line', async () => {
    const lines: { fields: Record<string, unknown>; message: string | undefined }[] = [];
    const server = createRpcServer({
      name: 'test',
      logger: {
        ...silent,
        error: (fields: unknown, message?: string) =>
          void lines.push({ fields: fields as Record<string, unknown>, message }),
      },
      interceptors: [
        async ({ context }, next) => {
          annotateCall(context, { tenant: 'acme' });
          annotateCall(context, { region: 'eu' });
          await next();
        },
      ],
    });
    server.register(
      ScoreService,
      scoreHandlers(() => Promise.reject(new Error('boom'))),
    );
    const port = await server.listen('127.0.0.1:0');
    cleanups.push(() => server.shutdown({ drainDelayMs: 0, graceMs: 1000 }));
    const error = (await scoreClient(`127.0.0.1:${port}`)
      .score({})
      .catch((e: unknown) => e)) as RpcError;
    expect(error.code).toBe(Code.INTERNAL);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.message).toBe('test: ScoreService/Score failed');
    expect(lines[0]!.fields).toMatchObject({ method: 'Score', tenant: 'acme', region: 'eu' });
  });
});

describe('streaming calls', () => {
  const registryBase = Object.fromEntries(
    RegistryService.methods.map((m) => [m.localName, notUsed]),
  ) as unknown as ServiceHandlers<typeof RegistryService>;

  it('streams server responses in order and reads client streams to the end', async () => {
    const { address } = await serve((s) =>
      s.register(RegistryService, {
        ...registryBase,
        async *watch(request) {
          for (let i = 1; i <= 3; i++) yield { revision: request.fromRevision + BigInt(i) };
        },
        async uploadModelVersion(requests) {
          let bytes = 0;
          let model = '';
          for await (const message of requests) {
            if (message.content.case === 'header') model = message.content.value.model;
            if (message.content.case === 'chunk') bytes += message.content.value.length;
          }
          return { version: { model, sizeBytes: BigInt(bytes) } };
        },
      }),
    );
    const client = createRpcClient(RegistryService, { address });
    cleanups.push(() => client.close());
    const revisions: bigint[] = [];
    for await (const change of client.watch({ fromRevision: 10n })) revisions.push(change.revision);
    expect(revisions).toEqual([11n, 12n, 13n]);

    const reply = await client.uploadModelVersion([
      { content: { case: 'header', value: { model: 'm1' } } },
      { content: { case: 'chunk', value: new Uint8Array(1000) } },
      { content: { case: 'chunk', value: new Uint8Array(24) } },
    ]);
    expect(reply.version?.model).toBe('m1');
    expect(reply.version?.sizeBytes).toBe(1024n);
  });
});

describe('deadlines and cancellation', () => {
  it('propagates the deadline to downstream calls and cancels the downstream handler in time', async () => {
    let downstreamAbortedAt = 0;
    const downstream = await serve((s) =>
      s.register(
        ScoreService,
        scoreHandlers(
          (_request, context) =>
            new Promise((_resolve, reject) => {
              context.signal.addEventListener('abort', () => {
                downstreamAbortedAt = Date.now();
                reject(new RpcError(Code.CANCELLED, 'gave up'));
              });
            }),
        ),
      ),
    );
    const downstreamClient = scoreClient(downstream.address);
    const upstream = await serve((s) =>
      s.register(
        ScoreService,
        scoreHandlers((request, context) => downstreamClient.score(request, { parent: context })),
      ),
    );
    const started = Date.now();
    const deadline = started + 200;
    const error = (await scoreClient(upstream.address)
      .score({ scorer: 's' }, { deadline })
      .catch((e: unknown) => e)) as RpcError;
    expect(error.code).toBe(Code.DEADLINE_EXCEEDED);
    for (let i = 0; i < 50 && downstreamAbortedAt === 0; i++) await sleep(10);
    expect(downstreamAbortedAt).toBeGreaterThan(0);
    expect(Math.abs(downstreamAbortedAt - deadline)).toBeLessThan(50);
  });

  it('cancels a call when the caller aborts its signal, and the handler sees it', async () => {
    let handlerSawAbort = false;
    const { address } = await serve((s) =>
      s.register(
        ScoreService,
        scoreHandlers(
          (_request, context) =>
            new Promise((_resolve, reject) => {
              context.signal.addEventListener('abort', () => {
                handlerSawAbort = true;
                reject(new RpcError(Code.CANCELLED, 'gave up'));
              });
            }),
        ),
      ),
    );
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const error = (await scoreClient(address)
      .score({}, { signal: controller.signal })
      .catch((e: unknown) => e)) as RpcError;
    expect(error.code).toBe(Code.CANCELLED);
    for (let i = 0; i < 50 && !handlerSawAbort; i++) await sleep(10);
    expect(handlerSawAbort).toBe(true);
  });
});

describe('reconnection', () => {
  it('reaches a server that comes up late within about a second, however long it was away', async () => {
    const { freePort } = await import('./free-port.js');
    const port = await freePort();
    const client = scoreClient(`127.0.0.1:${port}`);
    const outage = Date.now() + 3000;
    while (Date.now() < outage) {
      const error = (await client
        .score({}, { timeoutMs: 200 })
        .catch((e: unknown) => e)) as RpcError;
      expect(error.code).toBe(Code.UNAVAILABLE);
      await sleep(200);
    }
    const server = createRpcServer({ name: 'late', logger: silent });
    server.register(
      ScoreService,
      scoreHandlers(() => ({ score: 1 })),
    );
    await server.listen(`127.0.0.1:${port}`);
    cleanups.push(() => server.shutdown({ drainDelayMs: 0 }));
    const up = Date.now();
    let reply;
    while (!reply && Date.now() - up < 10_000) {
      reply = await client.score({}, { timeoutMs: 200 }).catch(() => undefined);
      if (!reply) await sleep(50);
    }
    expect(reply?.score).toBe(1);
    expect(Date.now() - up).toBeLessThan(1500);
  });
});

describe('limits', () => {
  it('refuses a message over the size limit with RESOURCE_EXHAUSTED and keeps serving', async () => {
    const { address } = await serve(
      (s) =>
        s.register(
          ScoreService,
          scoreHandlers((request) => ({ requestId: request.requestId })),
        ),
      { maxReceiveMessageBytes: 1024 },
    );
    const client = scoreClient(address);
    const error = (await client
      .score({ requestId: 'x'.repeat(4096) })
      .catch((e: unknown) => e)) as RpcError;
    expect(error.code).toBe(Code.RESOURCE_EXHAUSTED);
    const reply = await client.score({ requestId: 'small' });
    expect(reply.requestId).toBe('small');
  });
});

describe('draining', () => {
  it('tells long-lived streams that the server is draining, so they do not hold the shutdown', async () => {
    const server = createRpcServer({ name: 'test', logger: silent });
    server.register(RegistryService, {
      ...(Object.fromEntries(
        RegistryService.methods.map((m) => [m.localName, notUsed]),
      ) as unknown as ServiceHandlers<typeof RegistryService>),
      async *watch(_request, context) {
        yield { revision: 1n };
        await new Promise((resolve) =>
          context.draining.addEventListener('abort', resolve, { once: true }),
        );
        yield { revision: 2n };
      },
    });
    const client = createRpcClient(RegistryService, {
      address: `127.0.0.1:${await server.listen('127.0.0.1:0')}`,
    });
    cleanups.push(() => client.close());
    const revisions: bigint[] = [];
    const watching = (async () => {
      for await (const change of client.watch({})) revisions.push(change.revision);
    })();
    while (revisions.length === 0) await sleep(10);
    const started = Date.now();
    await server.shutdown({ drainDelayMs: 0, graceMs: 10_000 });
    await watching;
    expect(revisions).toEqual([1n, 2n]);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('health, reflection and shutdown', () => {
  it('answers health checks and lists its services through reflection', async () => {
    const { address } = await serve((s) =>
      s.register(
        ScoreService,
        scoreHandlers(() => ({})),
      ),
    );
    const health = healthProbe(address);
    const reflection = reflectionProbe(address);
    cleanups.push(
      () => health.close(),
      () => reflection.close(),
    );
    expect(await health.check()).toBe('SERVING');
    expect(await health.check('scoregate.gateway.v1.ScoreService')).toBe('SERVING');
    const services = await reflection.listServices();
    expect(services).toEqual(
      expect.arrayContaining(['scoregate.gateway.v1.ScoreService', 'grpc.health.v1.Health']),
    );
    const file = await reflection.fileContainingSymbol('scoregate.gateway.v1.ScoreRequest');
    expect(file.fileDescriptorResponse?.fileDescriptorProto.length).toBeGreaterThan(0);
  });

  it('turns NOT_SERVING first, lets in-flight calls finish, then stops', async () => {
    const server = createRpcServer({ name: 'test', logger: silent });
    server.register(
      ScoreService,
      scoreHandlers(async () => {
        await sleep(300);
        return create(ScoreResponseSchema, { score: 1 });
      }),
    );
    const port = await server.listen('127.0.0.1:0');
    const address = `127.0.0.1:${port}`;
    const health = healthProbe(address);
    cleanups.push(() => health.close());
    const statuses: string[] = [];
    const watch = health.watch();
    watch.on('data', (m: { status: string }) => statuses.push(`${m.status}@${server.inFlight()}`));
    watch.on('error', () => {});
    const client = scoreClient(address);
    await client.waitForReady(2000);
    const inFlight = [client.score({}), client.score({})];
    await sleep(50);
    const stopped = server.shutdown({ drainDelayMs: 50, graceMs: 5000 });
    const replies = await Promise.all(inFlight);
    await stopped;
    expect(replies.map((r) => r.score)).toEqual([1, 1]);
    expect(statuses[0]).toBe('SERVING@0');
    // NOT_SERVING was announced while both calls were still running.
    expect(statuses).toContain('NOT_SERVING@2');
    const after = (await client.score({}, { timeoutMs: 500 }).catch((e: unknown) => e)) as RpcError;
    expect(after.code).toBe(Code.UNAVAILABLE);
  });
});

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ScoreService } from '@scoregate/contracts';
import {
  Code,
  RpcError,
  createRpcClient,
  createRpcServer,
  type RpcClientOptions,
  type TlsOptions,
} from './index.js';

const silent = { info() {}, warn() {}, error() {} };
const script = resolve(import.meta.dirname, '../../../tools/tls/make-certs.sh');
let dir = '';
const pem = (name: string) => join(dir, name);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'scoregate-tls-'));
  execFileSync('bash', [script, dir], { stdio: 'ignore', timeout: 20_000 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function serveScore(tls: TlsOptions): Promise<string> {
  const server = createRpcServer({ name: 'tls-test', logger: silent, tls });
  server.register(ScoreService, {
    score: (request) => ({ requestId: request.scorer, score: 0.5 }),
    scoreBatch: () => {
      throw RpcError.unimplemented('not used');
    },
  });
  const port = await server.listen('127.0.0.1:0');
  cleanups.push(() => server.shutdown({ drainDelayMs: 0, graceMs: 1000, flushMs: 0 }));
  return `127.0.0.1:${port}`;
}

/** The status code of one Score call (OK when it answered). */
async function scoreStatus(address: string, tls?: TlsOptions): Promise<Code> {
  const options: RpcClientOptions = { address, defaultTimeoutMs: 3_000, ...(tls ? { tls } : {}) };
  const client = createRpcClient(ScoreService, options);
  try {
    const response = await client.score({ scorer: 'truck-roll-priority' });
    return response.requestId === 'truck-roll-priority' ? Code.OK : Code.UNKNOWN;
  } catch (error) {
    return RpcError.from(error).code;
  } finally {
    client.close();
  }
}

describe('TLS on a server', () => {
  it('refuses a plaintext client with UNAVAILABLE', async () => {
    const address = await serveScore({ certFile: pem('server.crt'), keyFile: pem('server.key') });
    expect(await scoreStatus(address)).toBe(Code.UNAVAILABLE);
  });

  it('serves a client that trusts the CA', async () => {
    const address = await serveScore({ certFile: pem('server.crt'), keyFile: pem('server.key') });
    expect(await scoreStatus(address, { caFile: pem('ca.crt') })).toBe(Code.OK);
  });

  it('is refused (UNAVAILABLE) by a client that trusts another CA', async () => {
    const address = await serveScore({ certFile: pem('server.crt'), keyFile: pem('server.key') });
    expect(await scoreStatus(address, { caFile: pem('rogue-ca.crt') })).toBe(Code.UNAVAILABLE);
  });
});

describe('mutual TLS (server with a client CA)', () => {
  const mtls = (): TlsOptions => ({
    certFile: pem('server.crt'),
    keyFile: pem('server.key'),
    caFile: pem('ca.crt'),
  });

  it('refuses a client without a certificate with UNAVAILABLE', async () => {
    const address = await serveScore(mtls());
    expect(await scoreStatus(address, { caFile: pem('ca.crt') })).toBe(Code.UNAVAILABLE);
  });

  it('refuses a client whose certificate another CA signed', async () => {
    const address = await serveScore(mtls());
    const rogue = {
      caFile: pem('ca.crt'),
      certFile: pem('rogue-client.crt'),
      keyFile: pem('rogue-client.key'),
    };
    expect(await scoreStatus(address, rogue)).toBe(Code.UNAVAILABLE);
  });

  it('serves a client with a certificate signed by the CA', async () => {
    const address = await serveScore(mtls());
    const client = {
      caFile: pem('ca.crt'),
      certFile: pem('client.crt'),
      keyFile: pem('client.key'),
    };
    expect(await scoreStatus(address, client)).toBe(Code.OK);
  });

  it('rejects a client TLS option with a certificate but no key, before any call', () => {
    expect(() =>
      createRpcClient(ScoreService, {
        address: '127.0.0.1:1',
        tls: { caFile: pem('ca.crt'), certFile: pem('client.crt') },
      }),
    ).toThrow(/certFile and keyFile/);
  });
});

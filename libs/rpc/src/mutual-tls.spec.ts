import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '@scoregate/config';
import { ScoreService } from '@scoregate/contracts';
import {
  Code,
  RpcError,
  checkHealth,
  createRpcClient,
  createRpcServer,
  mutualTls,
  mutualTlsEnv,
  type TlsOptions,
} from './index.js';

const silent = { info() {}, warn() {}, error() {} };
const script = resolve(import.meta.dirname, '../../../tools/tls/make-certs.sh');
let dir = '';
const pem = (name: string) => join(dir, name);
const complete = () => ({
  SCOREGATE_TLS_CA: pem('ca.crt'),
  SCOREGATE_TLS_CERT: pem('service.crt'),
  SCOREGATE_TLS_KEY: pem('service.key'),
});

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'scoregate-mtls-'));
  execFileSync('bash', [script, dir], { stdio: 'ignore', timeout: 20_000 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

/** The issues of the ConfigError that `run` throws, as `VARIABLE: reason` lines. */
function issuesOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((i) => `${i.variable}: ${i.reason}`);
    throw error;
  }
  throw new Error('no ConfigError was thrown');
}

describe('mutualTls', () => {
  it('is off (undefined) when none of the three variables is set', () => {
    expect(mutualTls('svc', {})).toBeUndefined();
  });

  it('gives server and client options with the CA, certificate and key when all three are set', () => {
    const options = {
      caFile: pem('ca.crt'),
      certFile: pem('service.crt'),
      keyFile: pem('service.key'),
    };
    expect(mutualTls('svc', complete())).toEqual({ server: options, client: options });
  });

  it('names each missing variable when only SCOREGATE_TLS_CA is set', () => {
    const issues = issuesOf(() => mutualTls('svc', { SCOREGATE_TLS_CA: pem('ca.crt') }));
    expect(issues).toHaveLength(2);
    expect(issues[0]).toMatch(
      /^SCOREGATE_TLS_CERT: is unset but SCOREGATE_TLS_CA is set: .*go together/,
    );
    expect(issues[1]).toMatch(/^SCOREGATE_TLS_KEY: is unset but SCOREGATE_TLS_CA is set/);
  });

  it('names the variable and the file that does not exist', () => {
    const missing = pem('nope/ca.crt');
    const issues = issuesOf(() => mutualTls('svc', { ...complete(), SCOREGATE_TLS_CA: missing }));
    expect(issues).toEqual([`SCOREGATE_TLS_CA: no such file (got "${missing}")`]);
  });

  it('refuses a certificate given as the key, and a key given as the certificate', () => {
    const swapped = {
      ...complete(),
      SCOREGATE_TLS_CERT: pem('service.key'),
      SCOREGATE_TLS_KEY: pem('service.crt'),
    };
    expect(issuesOf(() => mutualTls('svc', swapped))).toEqual([
      `SCOREGATE_TLS_CERT: holds no PEM certificate (got "${pem('service.key')}")`,
      `SCOREGATE_TLS_KEY: holds no PEM private key (got "${pem('service.crt')}")`,
    ]);
  });

  it('refuses a CA file that holds no CA, and a certificate only valid for serving', () => {
    const wrong = {
      SCOREGATE_TLS_CA: pem('client.crt'),
      SCOREGATE_TLS_CERT: pem('server.crt'),
      SCOREGATE_TLS_KEY: pem('server.key'),
    };
    expect(issuesOf(() => mutualTls('svc', wrong))).toEqual([
      `SCOREGATE_TLS_CA: is not a CA certificate (basicConstraints CA:FALSE) (got "${pem('client.crt')}")`,
      expect.stringMatching(
        /^SCOREGATE_TLS_CERT: must allow both server and client authentication \(extendedKeyUsage serverAuth,clientAuth\)/,
      ),
    ]);
  });

  it('refuses a key that belongs to another certificate', () => {
    const other = { ...complete(), SCOREGATE_TLS_KEY: pem('client.key') };
    expect(issuesOf(() => mutualTls('svc', other))).toEqual([
      `SCOREGATE_TLS_KEY: is not the private key of the certificate in SCOREGATE_TLS_CERT (got "${pem('client.key')}")`,
    ]);
  });
});

describe('mutualTlsEnv in a configuration schema', () => {
  it('passes the three paths through when the files are PEM of the right kind', () => {
    expect(loadConfig('svc', mutualTlsEnv, complete())).toEqual(complete());
  });

  it('names the variable, the file and the reason for a file that cannot be read, with every other problem', () => {
    const error = (() => {
      try {
        loadConfig('svc', mutualTlsEnv, {
          ...complete(),
          SCOREGATE_TLS_CA: pem('missing.crt'),
          SCOREGATE_TLS_KEY: dir,
        });
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('no ConfigError was thrown');
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain(`SCOREGATE_TLS_CA: no such file (got "${pem('missing.crt')}")`);
    expect(error.message).toContain(
      `SCOREGATE_TLS_KEY: is a directory, not a PEM file (got "${dir}")`,
    );
  });
});

describe('a server and a client built from mutualTls', () => {
  async function serve(tls: TlsOptions): Promise<string> {
    const server = createRpcServer({ name: 'mtls-test', logger: silent, tls });
    server.register(ScoreService, {
      score: () => ({ score: 0.5 }),
      scoreBatch: () => {
        throw RpcError.unimplemented('not used');
      },
    });
    const port = await server.listen('127.0.0.1:0');
    cleanups.push(() => server.shutdown({ drainDelayMs: 0, graceMs: 1000, flushMs: 0 }));
    return `127.0.0.1:${port}`;
  }

  async function scoreStatus(address: string, tls?: TlsOptions): Promise<Code> {
    const client = createRpcClient(ScoreService, {
      address,
      defaultTimeoutMs: 3_000,
      ...(tls ? { tls } : {}),
    });
    try {
      return (await client.score({ scorer: 's' })).score === 0.5 ? Code.OK : Code.UNKNOWN;
    } catch (error) {
      return RpcError.from(error).code;
    } finally {
      client.close();
    }
  }

  it('talk to each other, health included, with the one service certificate', async () => {
    const tls = mutualTls('svc', complete());
    if (!tls) throw new Error('mTLS is off');
    const address = await serve(tls.server);
    expect(await scoreStatus(address, tls.client)).toBe(Code.OK);
    expect(await checkHealth(address, '', 3_000, tls.client)).toBe('SERVING');
  });

  it('refuse (UNAVAILABLE) a plaintext client and a client whose certificate another CA signed', async () => {
    const tls = mutualTls('svc', complete());
    if (!tls) throw new Error('mTLS is off');
    const address = await serve(tls.server);
    expect(await scoreStatus(address)).toBe(Code.UNAVAILABLE);
    const rogue = {
      caFile: pem('ca.crt'),
      certFile: pem('rogue-client.crt'),
      keyFile: pem('rogue-client.key'),
    };
    expect(await scoreStatus(address, rogue)).toBe(Code.UNAVAILABLE);
    await expect(checkHealth(address, '', 3_000)).rejects.toMatchObject({
      code: Code.UNAVAILABLE,
    });
  });
});

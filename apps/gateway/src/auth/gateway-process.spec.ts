import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScoreService } from '@scoregate/contracts';
import { Code, RpcError, createRpcClient, freePort, type TlsOptions } from '@scoregate/rpc';
import { startService, type RunningService } from '@scoregate/stack';

const root = resolve(import.meta.dirname, '../../../..');
const key = `acme-${randomBytes(16).toString('hex')}`;
const ROUNDS = 50;

let dir = '';
let gateway: RunningService | undefined;
let address = '';
let output = '';

async function statusOf(
  headers: Record<string, string>,
  scorer: string,
  tls: TlsOptions | undefined,
): Promise<{ code: Code; message: string }> {
  const client = createRpcClient(ScoreService, {
    address,
    defaultTimeoutMs: 3_000,
    ...(tls ? { tls } : {}),
  });
  try {
    await client.score({ scorer, entityKeys: [{ entityType: 'truck', key: 't-1' }] }, { headers });
    return { code: Code.OK, message: '' };
  } catch (error) {
    const rpcError = RpcError.from(error);
    return { code: rpcError.code, message: rpcError.message };
  } finally {
    client.close();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'scoregate-gateway-auth-'));
  execFileSync('bash', [join(root, 'tools/tls/make-certs.sh'), dir], { stdio: 'ignore' });
  const sha256 = createHash('sha256').update(key).digest('hex');
  const authFile = join(dir, 'auth.json');
  writeFileSync(
    authFile,
    JSON.stringify({
      tenants: { acme: { scorers: ['truck-roll-*'], apiKeys: [{ id: 'ci', sha256 }] } },
    }),
  );
  const nowhere = `127.0.0.1:${await freePort()}`;
  gateway = await startService({
    name: 'gateway',
    port: 0,
    root,
    // Its public port serves TLS with the test CA's certificate.
    tls: { caFile: join(dir, 'ca.crt') },
    readyTimeoutMs: 50_000,
    env: {
      REGISTRY_SERVICE_ADDRESS: nowhere,
      FEATURE_SERVICE_ADDRESS: nowhere,
      SCORING_SERVICE_ADDRESS: nowhere,
      GATEWAY_AUTH_FILE: authFile,
      GATEWAY_TLS_CERT: join(dir, 'server.crt'),
      GATEWAY_TLS_KEY: join(dir, 'server.key'),
      LOG_LEVEL: 'info',
    },
    onOutput: (line) => (output += `${line}\n`),
  });
  address = gateway.address;
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 15_000);

describe('the gateway process with GATEWAY_AUTH_FILE and GATEWAY_TLS_*', () => {
  const tls = () => ({ caFile: join(dir, 'ca.crt') });

  it('logs that authentication is on and the public port is TLS', () => {
    expect(output).toContain('authentication ON');
    expect(output).toContain('public port TLS');
  });

  it(`answers the authentication matrix right in ${ROUNDS} of ${ROUNDS} rounds`, async () => {
    const cases: { headers: Record<string, string>; scorer: string; code: Code }[] = [
      { headers: {}, scorer: 'truck-roll-priority', code: Code.UNAUTHENTICATED },
      {
        headers: { authorization: 'Basic xyz' },
        scorer: 'truck-roll-priority',
        code: Code.UNAUTHENTICATED,
      },
      {
        headers: { authorization: 'Bearer a.b.c' },
        scorer: 'truck-roll-priority',
        code: Code.UNAUTHENTICATED,
      },
      {
        headers: { 'x-api-key': `${key}x` },
        scorer: 'truck-roll-priority',
        code: Code.UNAUTHENTICATED,
      },
      { headers: { 'x-api-key': key }, scorer: 'fraud-check', code: Code.PERMISSION_DENIED },
    ];
    const wrong: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const c of cases) {
        const { code, message } = await statusOf(c.headers, c.scorer, tls());
        if (code !== c.code)
          wrong.push(`${JSON.stringify(c.headers)} ${c.scorer}: ${code} ${message}`);
      }
    }
    expect(wrong).toEqual([]);
  }, 60_000);

  it('lets a valid key through to the Score handler (its answer, not an auth refusal)', async () => {
    const { code, message } = await statusOf({ 'x-api-key': key }, 'truck-roll-priority', tls());
    // No registry runs behind this gateway: the handler itself answers, naming the scorer.
    expect([Code.UNAUTHENTICATED, Code.PERMISSION_DENIED]).not.toContain(code);
    expect(message).toMatch(/^scorer "truck-roll-priority"/);
  });

  it('refuses a plaintext client on the TLS port with UNAVAILABLE', async () => {
    const { code } = await statusOf({ 'x-api-key': key }, 'truck-roll-priority', undefined);
    expect(code).toBe(Code.UNAVAILABLE);
  });
});

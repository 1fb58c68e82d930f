import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FeatureService,
  GRPCInferenceService,
  RegistryService,
  RetrainService,
  ScoreService,
} from '@scoregate/contracts';
import { Code, RpcError, createRpcClient, type TlsOptions } from '@scoregate/rpc';
import { startService, startStack, type RunningStack, type ServiceName } from '@scoregate/stack';
import { e2eCatalogue, golden, repoRoot } from './stack-fixture.js';

// The whole stack with SCOREGATE_TLS_* set: every service serves mTLS and presents the one
// service certificate when it calls another; the gateway's public port serves TLS.
let dir = '';
let stack: RunningStack;
const output: string[] = [];
const pem = (name: string) => join(dir, name);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'scoregate-e2e-mtls-'));
  execFileSync('bash', [join(repoRoot, 'tools/tls/make-certs.sh'), dir], {
    stdio: 'ignore',
    timeout: 20_000,
  });
  stack = await startStack({
    root: repoRoot,
    ports: {
      gateway: 0,
      'feature-service': 0,
      'scoring-service': 0,
      'registry-service': 0,
      'retrain-service': 0,
    },
    env: {
      SCOREGATE_TLS_CA: pem('ca.crt'),
      SCOREGATE_TLS_CERT: pem('service.crt'),
      SCOREGATE_TLS_KEY: pem('service.key'),
      LOG_LEVEL: 'info',
    },
    serviceEnv: {
      'registry-service': {
        REGISTRY_CATALOGUE_FILE: e2eCatalogue,
        REGISTRY_DATA_DIR: join(dir, 'registry'),
      },
      'scoring-service': { SCORING_CACHE_DIR: join(dir, 'scoring-cache') },
      'retrain-service': { RETRAIN_DATA_DIR: join(dir, 'retrain') },
      // The public port serves TLS too: the stack's readiness check must speak TLS to it.
      gateway: {
        GATEWAY_PREDICTION_FILE: join(dir, 'predictions.jsonl'),
        GATEWAY_TLS_CERT: pem('server.crt'),
        GATEWAY_TLS_KEY: pem('server.key'),
      },
    },
    onOutput: (service, line) => output.push(`[${service}] ${line}`),
    readyTimeoutMs: 45_000,
  });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 30_000);

const behind = [
  'feature-service',
  'scoring-service',
  'registry-service',
  'retrain-service',
] as const;
type Behind = (typeof behind)[number];

/** One cheap call to the service; its status code (OK when it answered). */
async function probe(name: Behind, tls: TlsOptions | undefined): Promise<Code> {
  const options = {
    address: stack.address(name),
    defaultTimeoutMs: 3_000,
    ...(tls ? { tls } : {}),
  };
  const calls: Record<Behind, () => { call: Promise<unknown>; close(): void }> = {
    'feature-service': () => {
      const client = createRpcClient(FeatureService, options);
      return { call: client.listFeatureViews({}), close: () => client.close() };
    },
    'scoring-service': () => {
      const client = createRpcClient(GRPCInferenceService, options);
      return { call: client.serverLive({}), close: () => client.close() };
    },
    'registry-service': () => {
      const client = createRpcClient(RegistryService, options);
      return { call: client.listModels({}), close: () => client.close() };
    },
    'retrain-service': () => {
      const client = createRpcClient(RetrainService, options);
      return { call: client.getJoinStatus({}), close: () => client.close() };
    },
  };
  const { call, close } = calls[name]();
  try {
    await call;
    return Code.OK;
  } catch (error) {
    return RpcError.from(error).code;
  } finally {
    close();
  }
}

/** What each service answers a client that gets through. */
const answered: Record<Behind, Code> = {
  'feature-service': Code.OK,
  'scoring-service': Code.OK,
  'registry-service': Code.OK,
  'retrain-service': Code.OK,
};

describe('a stack started with SCOREGATE_TLS_*', () => {
  it('has every service say mTLS is on', () => {
    for (const name of behind)
      expect(
        output.some(
          (line) => line.startsWith(`[${name}]`) && line.includes('mTLS between services ON'),
        ),
      ).toBe(true);
    expect(
      output.some((l) => l.startsWith('[gateway]') && l.includes('services behind mTLS')),
    ).toBe(true);
  });

  it('answers Score through the gateway with the golden prediction, not degraded', async () => {
    const client = createRpcClient(ScoreService, {
      address: stack.address('gateway'),
      defaultTimeoutMs: 10_000,
      tls: { caFile: pem('ca.crt') },
    });
    try {
      const reply = await client.score({
        scorer: 'truck-roll-priority',
        entityKeys: [{ entityType: 'customer', key: 'c-0001' }],
      });
      // Features came from feature-service and the answer from scoring-service, both over mTLS.
      expect(reply.degraded).toBe(false);
      expect(reply.reasons).toEqual([]);
      expect(reply.servedBy).toMatchObject({ model: 'truck-roll-gbt', alias: 'champion' });
      expect(reply.score).toBe(golden.predictions['truck-roll-gbt']?.probabilities[0]?.[1]);
    } finally {
      client.close();
    }
  });

  it.each(behind)('%s answers a client with the service certificate', async (name) => {
    expect(await probe(name, stack.tls)).toBe(answered[name]);
  });

  it.each(behind)('%s refuses a plaintext client with UNAVAILABLE', async (name) => {
    expect(await probe(name, undefined)).toBe(Code.UNAVAILABLE);
  });

  it.each(behind)(
    '%s refuses (UNAVAILABLE) a client whose certificate another CA signed',
    async (name) => {
      const rogue = {
        caFile: pem('ca.crt'),
        certFile: pem('rogue-client.crt'),
        keyFile: pem('rogue-client.key'),
      };
      expect(await probe(name, rogue)).toBe(Code.UNAVAILABLE);
    },
  );
});

describe('the scoregate CLI in the same environment', () => {
  /** Runs the CLI with `args`; mTLS variables as the stack has them when `withTls`. */
  function cli(args: string[], withTls: boolean): { code: number; output: string } {
    const env: Record<string, string | undefined> = { ...process.env };
    for (const name of [
      'SCOREGATE_TLS_CA',
      'SCOREGATE_TLS_CERT',
      'SCOREGATE_TLS_KEY',
      'GATEWAY_TLS_CERT',
    ])
      delete env[name];
    if (withTls)
      Object.assign(env, {
        SCOREGATE_TLS_CA: pem('ca.crt'),
        SCOREGATE_TLS_CERT: pem('service.crt'),
        SCOREGATE_TLS_KEY: pem('service.key'),
        GATEWAY_TLS_CERT: pem('server.crt'),
      });
    try {
      const output = execFileSync(
        process.execPath,
        [join(repoRoot, 'apps/cli/dist/main.js'), ...args],
        {
          cwd: repoRoot,
          env,
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
          timeout: 20_000,
        },
      );
      return { code: 0, output };
    } catch (error) {
      const failed = error as { status: number | null; stdout: string; stderr: string };
      return { code: failed.status ?? -1, output: `${failed.stdout}${failed.stderr}` };
    }
  }

  it("lists the registry's models over mTLS, and is refused without the certificate", () => {
    const registry = ['models', 'list', '--registry', stack.address('registry-service')];
    const over = cli(registry, true);
    expect(over.code).toBe(0);
    expect(over.output).toContain('truck-roll-gbt');
    const plain = cli(registry, false);
    expect(plain.code).toBe(1);
    expect(plain.output).toMatch(/error: UNAVAILABLE/);
  });

  it('scores through the TLS gateway port, and is refused in plaintext', () => {
    const score = [
      'score',
      '--address',
      stack.address('gateway'),
      '--scorer',
      'truck-roll-priority',
      '--entity',
      'customer:c-0001',
    ];
    const over = cli(score, true);
    expect(over.code).toBe(0);
    expect(JSON.parse(over.output)).toMatchObject({
      servedBy: { model: 'truck-roll-gbt' },
      score: golden.predictions['truck-roll-gbt']?.probabilities[0]?.[1],
    });
    const plain = cli(score, false);
    expect(plain.code).toBe(1);
    expect(plain.output).toMatch(/error: UNAVAILABLE/);
  });
});

/** Starts one service with `env`, expecting it to fail: resolves with how it failed. */
async function failedStart(name: ServiceName, env: Record<string, string>): Promise<string> {
  return startService({ name, port: 0, env, root: repoRoot }).then(
    async (service) => {
      await service.stop();
      return `${name} started`;
    },
    (error: Error) => error.message,
  );
}

describe('a service with a wrong SCOREGATE_TLS_* configuration', () => {
  it('exits 78 naming the missing variables when only SCOREGATE_TLS_CA is set', async () => {
    const printed = await failedStart('feature-service', {
      SCOREGATE_TLS_CA: pem('ca.crt'),
      SCOREGATE_TLS_CERT: '',
      SCOREGATE_TLS_KEY: '',
    });
    expect(printed).toMatch(/^feature-service exited \(78\) before it was SERVING/);
    expect(printed).toMatch(/SCOREGATE_TLS_CERT: is unset but SCOREGATE_TLS_CA is set/);
    expect(printed).toMatch(/SCOREGATE_TLS_KEY: is unset but SCOREGATE_TLS_CA is set/);
  });

  it('exits 78 naming the variable and the file that does not exist', async () => {
    const missing = pem('no-such.key');
    const printed = await failedStart('scoring-service', {
      SCOREGATE_TLS_CA: pem('ca.crt'),
      SCOREGATE_TLS_CERT: pem('service.crt'),
      SCOREGATE_TLS_KEY: missing,
    });
    expect(printed).toMatch(/^scoring-service exited \(78\) before it was SERVING/);
    expect(printed).toContain(`SCOREGATE_TLS_KEY: no such file (got "${missing}")`);
  });
});

/**
 * `scoregate stack` (what `npm start` runs) as a person runs it in a terminal: the launcher leads
 * its own process group, and Ctrl-C reaches the launcher and every service at once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { RetrainService, ScoreService } from '@scoregate/contracts';
import { checkHealth, createRpcClient } from '@scoregate/rpc';
import { SERVICES, freePort } from '@scoregate/stack';
import { repoRoot, sleep } from './stack-fixture.js';

interface Launcher {
  readonly child: ChildProcess;
  readonly logDir: string;
  /** Everything the launcher printed so far (standard output and error). */
  output(): string;
  readonly exited: Promise<number | null>;
}

/** `scoregate stack` in its own process group, with its data and logs in a fresh folder. */
function launch(env: Record<string, string>): Launcher {
  const dir = mkdtempSync(join(tmpdir(), 'scoregate-stack-command-'));
  const logDir = join(dir, 'logs');
  const child = spawn(
    process.execPath,
    [
      join(repoRoot, 'apps/cli/dist/main.js'),
      'stack',
      '--logs',
      logDir,
      '--ready-timeout-ms',
      '100000',
    ],
    {
      cwd: repoRoot,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        REGISTRY_DATA_DIR: join(dir, 'registry'),
        SCORING_CACHE_DIR: join(dir, 'scoring-cache'),
        GATEWAY_PREDICTION_FILE: join(dir, 'predictions.jsonl'),
        RETRAIN_DATA_DIR: join(dir, 'retrain'),
        ...env,
      },
    },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('close', (code) => resolve(code)),
  );
  return { child, logDir, output: () => output, exited };
}

async function waitForOutput(launcher: Launcher, pattern: RegExp, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(launcher.output())) {
    if (launcher.child.exitCode !== null || Date.now() > deadline)
      throw new Error(`no ${pattern} in the launcher's output:\n${launcher.output()}`);
    await sleep(200);
  }
}

/** Each service's listen port, set the way a person would: `<PREFIX>_PORT`. */
async function portVariables(): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const service of SERVICES) env[`${service.envPrefix}_PORT`] = String(await freePort());
  return env;
}

const stopGroup = (launcher: Launcher | undefined) => {
  if (launcher?.child.pid !== undefined && launcher.child.exitCode === null)
    process.kill(-launcher.child.pid, 'SIGKILL');
};

describe('scoregate stack started with LOG_LEVEL=warn and *_PORT variables', () => {
  let launcher: Launcher;
  let ports: Record<string, string>;

  beforeAll(async () => {
    ports = await portVariables();
    launcher = launch({ ...ports, LOG_LEVEL: 'warn' });
    await waitForOutput(launcher, /Ctrl-C stops every service/, 120_000);
  }, 130_000);
  afterAll(() => stopGroup(launcher));

  it('listens on the ports the environment names, and says so', async () => {
    for (const service of SERVICES) {
      const address = `127.0.0.1:${ports[`${service.envPrefix}_PORT`]}`;
      expect(launcher.output()).toContain(`${service.name.padEnd(17)} ${address}`);
      expect(await checkHealth(address, '', 2_000)).toBe('SERVING');
    }
  });

  it('writes no info-level line from any service through start-up and a Score call', async () => {
    const client = createRpcClient(ScoreService, {
      address: `127.0.0.1:${ports['GATEWAY_PORT']}`,
      defaultTimeoutMs: 10_000,
    });
    const reply = await client.score({
      scorer: 'truck-roll-priority',
      entityKeys: [{ entityType: 'customer', key: 'c-0001' }],
    });
    client.close();
    // A model's answer or, on a slow machine, the scorer's default answer: either is logged alike.
    expect(reply.score).toBeGreaterThan(0);
    for (const service of SERVICES) {
      const log = readFileSync(join(launcher.logDir, `${service.name}.log`), 'utf8');
      expect(log, `${service.name}.log`).not.toMatch(/"level":(10|20|30)\b/);
    }
    expect(launcher.output()).not.toMatch(/"level":(10|20|30)\b/);
  });

  it('joins a Score answer with its outcome sent by RecordOutcomes, with no Kafka (the prediction file is followed)', async () => {
    const gateway = createRpcClient(ScoreService, {
      address: `127.0.0.1:${ports['GATEWAY_PORT']}`,
      defaultTimeoutMs: 10_000,
    });
    const retrain = createRpcClient(RetrainService, {
      address: `127.0.0.1:${ports['RETRAIN_SERVICE_PORT']}`,
      defaultTimeoutMs: 10_000,
    });
    try {
      const requestId = `embedded-loop-${Date.now()}`;
      await gateway.score({
        scorer: 'truck-roll-priority',
        entityKeys: [{ entityType: 'customer', key: 'c-0002' }],
        requestId,
      });
      const recorded = await retrain.recordOutcomes({
        outcomes: [{ requestId, label: 1, observedAt: timestampFromMs(Date.now()), source: 'e2e' }],
      });
      expect(recorded.recorded).toBe(1);
      // The prediction reaches the join through the gateway's file (polled every 500 ms).
      const deadline = Date.now() + 30_000;
      let counts = (await retrain.getJoinStatus({})).counts;
      while ((counts?.labeledExamples ?? 0n) < 1n && Date.now() < deadline) {
        await sleep(200);
        counts = (await retrain.getJoinStatus({})).counts;
      }
      expect(counts).toMatchObject({ labeledExamples: 1n, outcomes: 1n, pendingOutcomes: 0n });
    } finally {
      gateway.close();
      retrain.close();
    }
  });

  it('on Ctrl-C (SIGINT to the whole group) drains every service, each exits 0, and so does the launcher', async () => {
    process.kill(-launcher.child.pid!, 'SIGINT');
    expect(await launcher.exited).toBe(0);
    for (const service of SERVICES)
      expect(launcher.output()).toContain(`${service.name.padEnd(17)} exited 0`);
    expect(launcher.output()).not.toMatch(/exited [^0]/);
  }, 60_000);
});

describe('scoregate stack with a service that cannot start', () => {
  let launcher: Launcher | undefined;
  afterAll(() => stopGroup(launcher));

  it('exits 1 naming the service and quoting the last lines it printed', async () => {
    launcher = launch({ ...(await portVariables()), REGISTRY_WATCH_POLL_MS: 'soon' });
    expect(await launcher.exited).toBe(1);
    expect(launcher.output()).toMatch(
      /registry-service exited \(78\) before it was SERVING; it printed:\n[^]*REGISTRY_WATCH_POLL_MS: must be a number/,
    );
  }, 60_000);
});

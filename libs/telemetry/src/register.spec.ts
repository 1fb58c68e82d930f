import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SpanRecord } from './file-span-exporter.js';

// Real processes, started the way services are: `node --import @scoregate/telemetry/register`,
// which resolves to the built dist/register.js. So build first.
const libDir = dirname(dirname(fileURLToPath(import.meta.url)));
const testingDir = join(libDir, 'src', 'testing');
const REGISTER = ['--import', '@scoregate/telemetry/register'];

interface Exited {
  code: number | null;
  stdout: string;
  stderr: string;
}

function start(
  args: string[],
  env: Record<string, string>,
): { child: ChildProcess; output: () => Exited } {
  const child = spawn(process.execPath, args, {
    cwd: libDir,
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return { child, output: () => ({ code: child.exitCode, stdout, stderr }) };
}

async function run(args: string[], env: Record<string, string>): Promise<Exited> {
  const { child, output } = start(args, env);
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await once(child, 'exit');
  clearTimeout(timer);
  return output();
}

async function waitFor<T>(
  probe: () => T | undefined,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function readRecords(path: string): SpanRecord[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as SpanRecord);
}

describe('node --import @scoregate/telemetry/register', () => {
  const workDir = mkdtempSync(join(tmpdir(), 'scoregate-register-'));
  let server: ChildProcess | undefined;

  beforeAll(() => {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    execFileSync(process.execPath, [tsc, '-b', join(libDir, 'tsconfig.lib.json')], {
      stdio: 'inherit',
    });
  });

  afterAll(() => {
    if (server?.exitCode === null) server.kill('SIGKILL');
  });

  it('traces a gRPC call from an ESM client process into an ESM server process as one trace', async () => {
    const serverSpans = join(workDir, 'server.jsonl');
    const clientSpans = join(workDir, 'client.jsonl');

    const started = start([...REGISTER, join(testingDir, 'echo-server.mjs')], {
      OTEL_SERVICE_NAME: 'echo-server',
      SCOREGATE_TRACES_FILE: serverSpans,
    });
    server = started.child;
    const port = await waitFor(
      () => /listening (\d+)/.exec(started.output().stdout)?.[1],
      'the server to listen',
    );

    const client = await run([...REGISTER, join(testingDir, 'echo-client.mjs'), port], {
      OTEL_SERVICE_NAME: 'echo-client',
      SCOREGATE_TRACES_FILE: clientSpans,
    });
    expect(client.stderr).toBe('');
    expect(client.code).toBe(0);

    server.kill('SIGTERM');
    await once(server, 'exit');
    const serverOutput = started.output();
    expect(serverOutput.code).toBe(0);

    const [clientSpan, ...otherClientSpans] = readRecords(clientSpans);
    const [serverSpan, ...otherServerSpans] = readRecords(serverSpans);
    expect(otherClientSpans).toEqual([]);
    expect(otherServerSpans).toEqual([]);

    expect(clientSpan).toMatchObject({
      name: 'grpc.scoregate.testing.Echo/Echo',
      kind: 'CLIENT',
      serviceName: 'echo-client',
      parentSpanId: null,
      attributes: {
        'rpc.system': 'grpc',
        'rpc.service': 'scoregate.testing.Echo',
        'rpc.method': 'Echo',
      },
    });
    expect(serverSpan).toMatchObject({
      name: 'grpc.scoregate.testing.Echo/Echo',
      kind: 'SERVER',
      serviceName: 'echo-server',
      traceId: clientSpan!.traceId,
      parentSpanId: clientSpan!.spanId,
      attributes: { 'rpc.grpc.status_code': 0 },
    });
    expect(clientSpan!.traceId).toMatch(/^[0-9a-f]{32}$/);

    // The handler saw the same trace as the active one: in its answer and in its log line.
    expect(client.stdout).toBe(`server trace ${clientSpan!.traceId}\n`);
    const logLine = serverOutput.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((line) => line['msg'] === 'echo');
    expect(logLine).toMatchObject({
      service: 'echo-server',
      trace_id: clientSpan!.traceId,
      span_id: serverSpan!.spanId,
    });
  });

  it('with no exporter configured, starts the SDK, exports nothing and says so once on standard error', async () => {
    const probe = `process.stdout.write(typeof globalThis[Symbol.for('scoregate.telemetry')]?.shutdown)`;
    const result = await run([...REGISTER, '--input-type=module', '-e', probe], {
      OTEL_SERVICE_NAME: 'quiet',
    });

    expect(result.code).toBe(0);
    expect(result.stdout).toBe('function');
    const lines = result.stderr.split('\n').filter((line) => line !== '');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: 30,
      service: 'quiet',
      msg: expect.stringMatching(/no trace exporter configured/),
    });
  });

  it('starts nothing when OTEL_SDK_DISABLED=true', async () => {
    const probe = `process.stdout.write(String(globalThis[Symbol.for('scoregate.telemetry')]))`;
    const result = await run([...REGISTER, '--input-type=module', '-e', probe], {
      OTEL_SDK_DISABLED: 'true',
    });

    expect(result).toEqual({ code: 0, stdout: 'undefined', stderr: '' });
  });
});

import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './chaos-fixture.js';

/** ghz, built by tools/ghz/install.sh (CI exports its path as GHZ). */
function ghzPath(): string {
  return (
    process.env['GHZ'] ??
    execFileSync('bash', [join(repoRoot, 'tools/ghz/install.sh')], { encoding: 'utf8' }).trim()
  );
}

export interface LoadOptions {
  /** `host:port` of the gateway. */
  readonly address: string;
  /** The Score request, as proto JSON. */
  readonly request: Record<string, unknown>;
  readonly seconds: number;
  /** Open loop: calls started per second whatever the answers do. Closed loop when absent. */
  readonly rate?: number;
  /** Open loop, rising: `from` calls/s, `stepPerSecond` more every second. */
  readonly ramp?: { readonly from: number; readonly stepPerSecond: number };
  /** Workers (closed loop: calls in flight). */
  readonly concurrency: number;
  /** Client deadline of each call (ms). */
  readonly timeoutMs: number;
}

/** One call as ghz saw it. */
export interface CallRecord {
  /** Start, ms from the first call of the run. */
  readonly atMs: number;
  readonly latencyMs: number;
  /** gRPC status name as ghz prints it, e.g. `OK`, `ResourceExhausted`. */
  readonly status: string;
  readonly error: string;
}

export interface LoadRun {
  readonly calls: readonly CallRecord[];
  readonly seconds: number;
  /** Wall-clock time (epoch ms) of the first call: `atMs` counts from it. */
  readonly startedAt: number;
}

/**
 * Drives `ScoreService/Score` with ghz — a Go process, so the load generator shares neither the
 * event loop nor the runtime of what it measures — and returns every call's status and latency.
 */
export async function runLoad(options: LoadOptions): Promise<LoadRun> {
  const args = [
    '--insecure',
    '--call',
    'scoregate.gateway.v1.ScoreService/Score',
    '--data',
    JSON.stringify(options.request),
    '--concurrency',
    String(options.concurrency),
    '--connections',
    '4',
    '--duration',
    `${options.seconds}s`,
    '--duration-stop',
    'wait',
    '--timeout',
    `${options.timeoutMs}ms`,
    '--format',
    'json',
    ...(options.rate ? ['--rps', String(options.rate), '--async'] : []),
    ...(options.ramp
      ? [
          '--async',
          '--load-schedule',
          'step',
          '--load-start',
          String(options.ramp.from),
          '--load-step',
          String(options.ramp.stepPerSecond),
          '--load-step-duration',
          '1s',
        ]
      : []),
    options.address,
  ];
  const child = spawn(ghzPath(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
  const code = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), (options.seconds + 60) * 1000);
    child.once('error', reject);
    child.once('exit', (exitCode) => {
      clearTimeout(timer);
      resolve(exitCode);
    });
  });
  const text = Buffer.concat(out).toString('utf8');
  if (code !== 0 || !text.startsWith('{')) {
    throw new Error(`ghz exited ${code}: ${Buffer.concat(err).toString('utf8')}${text}`);
  }
  const report = JSON.parse(text) as {
    total: number;
    details: { timestamp: string; latency: number; status: string; error: string }[];
  };
  const start = Math.min(...report.details.map((d) => Date.parse(d.timestamp)));
  return {
    seconds: report.total / 1e9,
    startedAt: start,
    calls: report.details.map((d) => ({
      atMs: Date.parse(d.timestamp) - start,
      latencyMs: d.latency / 1e6,
      status: d.status,
      error: d.error,
    })),
  };
}

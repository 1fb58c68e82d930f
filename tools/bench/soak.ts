/**
 * Soak: the five services as real processes (@scoregate/stack, e2e catalogue) under a steady,
 * realistic mix of Score calls (tools/bench/soak-mix.ts: healthy, missing features, unknown
 * scorers, malformed bytes) at half its capacity, for a chosen time. Every
 * minute it prints one row: calls per kind, unexpected answers, latency of the Score calls, and
 * per service RSS, V8 heap in use, active libuv resources and open file descriptors.
 *
 *   npm run bench:soak -- [minutes, default 120] [rate /s, default a quarter of the measured
 *   closed-loop throughput: about half of what the stack serves within the budget]
 *
 * It ends with the RSS growth of each service from minute 10 to the end, and exits 1 when a
 * service grew by 5% or more, or any call got an answer its kind does not ask for.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '@scoregate/rpc';
import { SERVICES, type ServiceName } from '@scoregate/stack';
import { startBenchStack } from './bench-stack.ts';
import { sampleProcess, type ProcessSample } from './process-probe.ts';
import { CALL_KINDS, createScoreMix, type CallResult } from './soak-mix.ts';

const minutes = Number(process.argv[2] ?? 120);
const requestedRate = process.argv[3] === undefined ? undefined : Number(process.argv[3]);
const BUDGET_MS = 50;
const TIMEOUT_MS = 1_000;
const WARM_MINUTE = 10;
const names = SERVICES.map((s) => s.name);

const pct = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;

const metricsPorts = Object.fromEntries(
  await Promise.all(names.map(async (n) => [n, await freePort()] as const)),
) as Record<ServiceName, number>;
const stack = await startBenchStack('soak', {
  env: { OTEL_METRICS_EXPORTER: 'prometheus', OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1' },
  serviceEnv: Object.fromEntries(
    names.map((n) => [n, { OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPorts[n]) }]),
  ),
  onInterrupt: () => mix.close(),
});
const dir = stack.dir;
const mix = createScoreMix(stack.address('gateway'), BUDGET_MS, TIMEOUT_MS);

/** Closed loop at concurrency 32 for `ms`: the mix's calls per second. */
async function capacity(ms: number): Promise<number> {
  let done = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (performance.now() - start < ms) await mix.call(done++);
    }),
  );
  return done / ((performance.now() - start) / 1_000);
}

interface Minute {
  readonly minute: number;
  readonly calls: Record<string, number>;
  readonly unexpected: number;
  readonly unexpectedStatuses: Record<string, number>;
  /** One message per unexpected kind and status. */
  readonly unexpectedMessages: Record<string, string>;
  readonly degraded: number;
  readonly overBudget: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly services: Record<ServiceName, ProcessSample>;
}

/** Open loop at `rate` for one minute; the calls still in flight at its end count in it. */
async function runMinute(minute: number, rate: number, firstCall: number): Promise<Minute> {
  const results: CallResult[] = [];
  const inflight: Promise<void>[] = [];
  const start = performance.now();
  let issued = 0;
  while (performance.now() - start < 60_000) {
    const due = Math.floor(((performance.now() - start) * rate) / 1_000);
    for (; issued < due; issued++)
      inflight.push(mix.call(firstCall + issued).then((r) => void results.push(r)));
    await new Promise((r) => setTimeout(r, 2));
  }
  await Promise.all(inflight);
  const scoreMs = results
    .filter((r) => r.kind !== 'malformed' && r.status === 'OK')
    .map((r) => r.ms)
    .sort((a, b) => a - b);
  const unexpected = results.filter((r) => !r.expected);
  const services = {} as Record<ServiceName, ProcessSample>;
  for (const name of names)
    services[name] = await sampleProcess(stack.services[name].process.pid!, metricsPorts[name]);
  return {
    minute,
    calls: Object.fromEntries(
      CALL_KINDS.map((k) => [k, results.filter((r) => r.kind === k).length]),
    ),
    unexpected: unexpected.length,
    unexpectedStatuses: unexpected.reduce<Record<string, number>>((acc, r) => {
      acc[`${r.kind}:${r.status}`] = (acc[`${r.kind}:${r.status}`] ?? 0) + 1;
      return acc;
    }, {}),
    unexpectedMessages: Object.fromEntries(
      unexpected.map((r) => [`${r.kind}:${r.status}`, r.message.slice(0, 200)]),
    ),
    degraded: results.filter((r) => r.degraded).length,
    overBudget: scoreMs.filter((ms) => ms > BUDGET_MS).length,
    p50: pct(scoreMs, 0.5),
    p99: pct(scoreMs, 0.99),
    max: scoreMs.at(-1) ?? NaN,
    services,
  };
}

const short: Record<ServiceName, string> = {
  gateway: 'gw',
  'feature-service': 'feat',
  'scoring-service': 'scor',
  'registry-service': 'reg',
  'retrain-service': 'retr',
};
const n0 = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '–');
const n1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '–');
function header(): string {
  const perService = names.map((n) => `${short[n]} RSS/heap MB, res, fd`);
  return `| min | calls | unexpected | degraded | >budget | p50 ms | p99 ms | max ms | ${perService.join(' | ')} |`;
}
function row(m: Minute): string {
  const calls = Object.values(m.calls).reduce((a, b) => a + b, 0);
  const perService = names.map((n) => {
    const s = m.services[n];
    return `${n0(s.rssMb)}/${n0(s.heapUsedMb)}, ${n0(s.activeResources)}, ${s.fds}`;
  });
  return `| ${m.minute} | ${calls} | ${m.unexpected} | ${m.degraded} | ${m.overBudget} | ${n1(m.p50)} | ${n1(m.p99)} | ${n0(m.max)} | ${perService.join(' | ')} |`;
}

let exitCode = 0;
try {
  await capacity(5_000);
  const measured = await capacity(15_000);
  // The closed loop keeps 32 calls in flight: its throughput counts answers well past the 50 ms
  // budget (32 / 450 per s ≈ 70 ms each), about twice the rate served within it. Half of it was
  // overload: at 224/s of 449 the first minute had 164 unexpected answers, the second 822; at
  // 100/s none. So half the capacity is a quarter of the throughput.
  const rate = requestedRate ?? Math.max(1, Math.round(measured / 4));
  console.log(
    `soak: ${minutes} min at ${rate} calls/s (capacity measured ${measured.toFixed(0)}/s), ` +
      `budget ${BUDGET_MS} ms, client deadline ${TIMEOUT_MS} ms; mix per 20 calls: 14 healthy, ` +
      `2 missing features, 2 unknown scorer, 2 malformed`,
  );
  console.log(header());
  console.log(`|${'---|'.repeat(8 + names.length)}`);
  const rows: Minute[] = [];
  for (let minute = 1; minute <= minutes; minute++) {
    const m = await runMinute(minute, rate, minute * 1_000_000);
    rows.push(m);
    console.log(row(m));
    if (m.unexpected > 0) {
      console.log(`  unexpected: ${JSON.stringify(m.unexpectedStatuses)}`);
      console.log(`  for example: ${JSON.stringify(m.unexpectedMessages)}`);
    }
    writeFileSync(join(dir, 'soak.json'), JSON.stringify(rows));
  }
  const from = rows[Math.min(WARM_MINUTE, rows.length) - 1]!;
  const to = rows.at(-1)!;
  const unexpected = rows.reduce((a, m) => a + m.unexpected, 0);
  console.log(`\nRSS growth from minute ${from.minute} to ${to.minute}:`);
  for (const name of names) {
    const growth = to.services[name].rssMb / from.services[name].rssMb - 1;
    if (!(growth < 0.05)) exitCode = 1;
    console.log(
      `  ${name.padEnd(17)} ${n0(from.services[name].rssMb)} → ${n0(to.services[name].rssMb)} MB (${(growth * 100).toFixed(1)}%)`,
    );
  }
  if (unexpected > 0) exitCode = 1;
  console.log(`unexpected answers: ${unexpected}; per-minute rows in ${join(dir, 'soak.json')}`);
} finally {
  mix.close();
  await stack.stop();
}
process.exitCode = exitCode;

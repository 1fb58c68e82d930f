/**
 * Garbage benchmark: does the gateway's memory stay bounded under malformed traffic?
 *
 * Starts the five services as real processes (@scoregate/stack, e2e catalogue, free ports, temp
 * data dirs; the gateway with its inspector on a free loopback port), sends a warm-up of
 * malformed Score calls, then N more — seeded random bytes, valid requests cut short, valid
 * encodings with one bad field (createMalformedScoreRequests) — at a fixed concurrency, and
 * prints every 10% of the run: calls sent, their statuses, the gateway's RSS (VmRSS of
 * /proc/<pid>/status), its V8 heap in use and, after a full GC, the heap retained.
 *
 *   npm run bench:garbage -- [calls, default 1000000] [concurrency, default 32] [seed, default 1]
 *
 * BENCH_NODE_OPTIONS adds node options to the gateway after the launcher's heap bounds, e.g.
 * `--max-semi-space-size=32 --max-old-space-size=4096` for V8's own sizing on a 24 GB machine.
 *
 * A benchmark, not a test: the bound checked in CI is test/chaos/src/malformed-memory.spec.ts.
 */
import { readFileSync } from 'node:fs';
import {
  connectHeapInspector,
  INSPECT_ON_FREE_PORT,
  INSPECTOR_ANNOUNCEMENT,
  sendMalformedScoreCalls,
  type StatusCounts,
} from '@scoregate/test-servers';
import { startBenchStack } from './bench-stack.ts';

const calls = Number(process.argv[2] ?? 1_000_000);
const concurrency = Number(process.argv[3] ?? 32);
const seed = Number(process.argv[4] ?? 1);
const warmUpCalls = Math.min(20_000, Math.max(1_000, Math.round(calls / 20)));
const MB = 1024 * 1024;

function rssBytes(pid: number): number {
  const line = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!line) throw new Error(`no VmRSS for process ${pid}`);
  return Number(line[1]) * 1024;
}

let inspectorUrl: ((url: string) => void) | undefined;
const announced = new Promise<string>((resolve) => (inspectorUrl = resolve));
const stack = await startBenchStack('garbage', {
  gatewayEnv: {
    NODE_OPTIONS: `${INSPECT_ON_FREE_PORT} ${process.env['BENCH_NODE_OPTIONS'] ?? ''}`,
  },
  onOutput: (service, line) => {
    const url = service === 'gateway' ? INSPECTOR_ANNOUNCEMENT.exec(line)?.[1] : undefined;
    if (url) inspectorUrl?.(url);
  },
});
const pid = stack.services.gateway.process.pid!;
const heap = await connectHeapInspector(await announced);

interface Row {
  readonly sent: number;
  readonly statuses: string;
  readonly rssMb: number;
  /** What V8 reserved for its heap (of it, for new objects and for old ones), what of it is in
   * use, and what is left after a full GC. */
  readonly heapTotalMb: number;
  readonly newSpaceMb: number;
  readonly oldSpaceMb: number;
  readonly heapUsedMb: number;
  readonly retainedMb: number;
  /** Memory of Buffers and other objects outside the V8 heap. */
  readonly externalMb: number;
  readonly rate: number;
}

async function measure(sent: number, statuses: Readonly<StatusCounts>, rate: number) {
  const rss = rssBytes(pid);
  const usage = await heap.memoryUsage();
  const spaces = await heap.spaceSizes();
  const retained = await heap.retained();
  const byCount = Object.entries(statuses).sort(([, a], [, b]) => b - a);
  return {
    sent,
    statuses: byCount.map(([name, n]) => `${name} ${n}`).join(', '),
    rssMb: rss / MB,
    heapTotalMb: usage.heapTotal / MB,
    newSpaceMb: (spaces['new_space'] ?? 0) / MB,
    oldSpaceMb: (spaces['old_space'] ?? 0) / MB,
    heapUsedMb: usage.heapUsed / MB,
    retainedMb: retained.usedBytes / MB,
    externalMb: usage.external / MB,
    rate,
  } satisfies Row;
}

const mb = (value: number) => value.toFixed(1).padStart(6);
const print = (row: Row) =>
  console.log(
    `| ${String(row.sent).padStart(9)} | ${mb(row.rssMb)} | ${mb(row.heapTotalMb)} | ` +
      `${mb(row.newSpaceMb)} | ${mb(row.oldSpaceMb)} | ` +
      `${mb(row.heapUsedMb)} | ${mb(row.retainedMb)} | ${mb(row.externalMb)} | ` +
      `${row.rate.toFixed(0).padStart(6)} | ${row.statuses} |`,
  );

try {
  const address = stack.address('gateway');
  await sendMalformedScoreCalls({ address, calls: warmUpCalls, concurrency, seed: seed + 1 });
  const warm = await measure(0, {}, 0);
  console.log(
    `garbage benchmark: ${calls} malformed Score calls, ${concurrency} in flight, seed ${seed}; ` +
      `after a warm-up of ${warmUpCalls} calls`,
  );
  console.log(
    '| calls | RSS MB | V8 heap MB | new MB | old MB | used MB | kept MB | external MB | call/s | statuses |',
  );
  console.log(
    '| ----: | -----: | ---------: | -----: | -----: | ------: | ------: | ----------: | -----: | -------- |',
  );
  print(warm);
  let last = { at: performance.now(), sent: 0 };
  let final = warm;
  await sendMalformedScoreCalls({
    address,
    calls,
    concurrency,
    seed,
    checkpointEvery: Math.ceil(calls / 10),
    onCheckpoint: async (sent, statuses) => {
      const rate = ((sent - last.sent) * 1_000) / (performance.now() - last.at);
      final = await measure(sent, statuses, rate);
      print(final);
      last = { at: performance.now(), sent };
    },
  });
  console.log(
    `RSS after warm-up ${warm.rssMb.toFixed(1)} MB, after ${calls} calls ${final.rssMb.toFixed(1)} MB: ` +
      `${(final.rssMb - warm.rssMb).toFixed(1)} MB growth; heap kept after GC ` +
      `${warm.retainedMb.toFixed(1)} → ${final.retainedMb.toFixed(1)} MB`,
  );
} finally {
  heap.close();
  await stack.stop();
}

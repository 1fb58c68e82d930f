/**
 * What a service process costs, read from outside it: resident memory and open file descriptors
 * from /proc, the V8 heap and the event loop's active resources from its Prometheus `/metrics`
 * (`scoregate.process.*`, served with OTEL_METRICS_EXPORTER=prometheus).
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcessSample {
  readonly rssMb: number;
  readonly heapUsedMb: number;
  readonly activeResources: number;
  readonly fds: number;
}

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line?.split(/\s+/)[1] ?? NaN) / 1024;
}

function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** The value of the first sample line whose metric name starts with `prefix`. */
function metricValue(text: string, prefix: string): number {
  const line = text.split('\n').find((l) => l.startsWith(prefix) && !l.startsWith('#'));
  return Number(line?.split(' ').at(-1) ?? NaN);
}

export async function sampleProcess(pid: number, metricsPort: number): Promise<ProcessSample> {
  let text = '';
  try {
    const response = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, {
      signal: AbortSignal.timeout(2_000),
    });
    text = await response.text();
  } catch {
    // Reported as NaN: a probe that cannot reach /metrics must not stop the soak.
  }
  return {
    rssMb: rssMb(pid),
    heapUsedMb: metricValue(text, 'scoregate_process_memory_heap_used') / 2 ** 20,
    activeResources: metricValue(text, 'scoregate_process_active_resources'),
    fds: openFds(pid),
  };
}

import type { Meter } from '@opentelemetry/api';

/**
 * What a process costs the machine, as observable gauges read at each collection: resident
 * memory, the V8 heap in use and its current size, and the libuv handles and requests keeping
 * the event loop alive (sockets, timers, file handles). A leak shows as one of them climbing
 * while the traffic stays flat.
 */
export function registerRuntimeMetrics(meter: Meter): void {
  const rss = meter.createObservableGauge('scoregate.process.memory.rss', {
    unit: 'By',
    description: 'resident set size of the process',
  });
  const heapUsed = meter.createObservableGauge('scoregate.process.memory.heap_used', {
    unit: 'By',
    description: 'V8 heap in use (live objects and garbage not yet collected)',
  });
  const heapTotal = meter.createObservableGauge('scoregate.process.memory.heap_total', {
    unit: 'By',
    description: 'V8 heap reserved',
  });
  const handles = meter.createObservableGauge('scoregate.process.active_resources', {
    description: 'libuv handles and requests keeping the event loop alive',
  });
  meter.addBatchObservableCallback(
    (result) => {
      const memory = process.memoryUsage();
      result.observe(rss, memory.rss);
      result.observe(heapUsed, memory.heapUsed);
      result.observe(heapTotal, memory.heapTotal);
      result.observe(handles, process.getActiveResourcesInfo().length);
    },
    [rss, heapUsed, heapTotal, handles],
  );
}

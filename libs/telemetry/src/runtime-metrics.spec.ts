import { describe, expect, it } from 'vitest';
import { getMeter } from './metrics.js';
import { registerRuntimeMetrics } from './runtime-metrics.js';
import { installTelemetryForTests } from './test-telemetry.js';

describe('registerRuntimeMetrics', () => {
  it('reports this process memory and its active libuv resources at each collection', async () => {
    const telemetry = installTelemetryForTests();
    registerRuntimeMetrics(getMeter());
    const timer = setInterval(() => {}, 60_000);
    try {
      const [rss] = await telemetry.collect('scoregate.process.memory.rss');
      const [heapUsed] = await telemetry.collect('scoregate.process.memory.heap_used');
      const [heapTotal] = await telemetry.collect('scoregate.process.memory.heap_total');
      const [resources] = await telemetry.collect('scoregate.process.active_resources');
      expect(rss?.value).toBeGreaterThan(10 * 1024 * 1024);
      expect(heapUsed?.value).toBeGreaterThan(1024 * 1024);
      expect(heapTotal?.value).toBeGreaterThanOrEqual(heapUsed?.value ?? Infinity);
      expect(rss?.value).toBeGreaterThan(heapUsed?.value ?? Infinity);
      expect(resources?.value).toBeGreaterThanOrEqual(1);

      // The gauges are read again at each collection: a new timer is one more resource.
      const before = resources?.value ?? 0;
      const another = setInterval(() => {}, 60_000);
      const [after] = await telemetry.collect('scoregate.process.active_resources');
      clearInterval(another);
      expect(after?.value).toBe(before + 1);
    } finally {
      clearInterval(timer);
    }
  });
});

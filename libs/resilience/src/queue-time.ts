import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

/** Reads how long work waits before it runs, over the time since the last read. */
export interface QueueTimeProbe {
  /**
   * Queueing time (ms) since the last call: the median wait, so that one stall (a GC pause, the
   * machine taking the CPU away for a moment) does not read as a standing queue.
   */
  read(): number;
  /** Share of the time since the last call the process was busy (0..1); 1 when unknown. */
  busy?(): number;
  stop(): void;
}

/**
 * The queueing time of this process: in Node every callback — an arriving request, a downstream
 * answer, a timer — waits its turn on the event loop, so the loop's delay is the time any work
 * queues before it runs. Measured with Node's own `monitorEventLoopDelay` (a timer sampled every
 * `resolutionMs`; it reports the whole time between samples, so the interval is taken off).
 */
export function eventLoopQueueTime(resolutionMs = 2): QueueTimeProbe {
  const histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  histogram.enable();
  let lastRead = performance.now();
  let lastUtilization = performance.eventLoopUtilization();
  return {
    read() {
      const now = performance.now();
      // No sample since the last read: the loop was blocked all that time (a reset forgets when
      // the last sample was taken, so the sample spanning it is lost).
      const medianMs =
        histogram.count > 0 ? histogram.percentile(50) / 1e6 : now - lastRead + resolutionMs;
      histogram.reset();
      lastRead = now;
      return Math.max(0, medianMs - resolutionMs);
    },
    busy() {
      // Event-loop utilization: the share of the time the loop was running callbacks.
      const now = performance.eventLoopUtilization();
      const delta = performance.eventLoopUtilization(now, lastUtilization);
      lastUtilization = now;
      return delta.utilization;
    },
    stop: () => histogram.disable(),
  };
}

import { monitorEventLoopDelay } from 'node:perf_hooks';

/** Reads how long work waits before it runs, over the time since the last read. */
export interface QueueTimeProbe {
  /** Mean queueing time (ms) since the last call. */
  read(): number;
  stop(): void;
}

/**
 * The queueing time of this process: in Node every callback — an arriving request, a downstream
 * answer, a timer — waits its turn on the event loop, so the loop's delay is the time any work
 * queues before it runs. Measured with Node's own `monitorEventLoopDelay` (a timer sampled every
 * `resolutionMs`; it reports the whole time between samples, so the interval is taken off).
 */
export function eventLoopQueueTime(resolutionMs = 5): QueueTimeProbe {
  const histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  histogram.enable();
  // Never reset: a reset forgets when the last sample was taken, so a stall spanning a read would
  // be lost. The mean of one interval comes from the running totals instead.
  let sum = 0;
  let count = 0;
  return {
    read() {
      const nowCount = histogram.count;
      const nowSum = nowCount > 0 ? histogram.mean * nowCount : 0; // ns
      const samples = nowCount - count;
      const meanMs = samples > 0 ? (nowSum - sum) / samples / 1e6 : resolutionMs;
      sum = nowSum;
      count = nowCount;
      return Math.max(0, meanMs - resolutionMs);
    },
    stop: () => histogram.disable(),
  };
}

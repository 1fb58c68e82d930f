import { getMeter } from '@scoregate/telemetry';
import type { DropReason } from './event-buffer.js';

export interface PredictionLogMetrics {
  /** Adds to `scoregate.prediction_log.dropped`, by reason. */
  dropped(count: number, reason: DropReason): void;
  /** Stops reporting `scoregate.prediction_log.buffered`. */
  stop(): void;
}

/** The prediction log's metrics; `buffered` is read each time the metrics are collected. */
export function createPredictionLogMetrics(buffered: () => number): PredictionLogMetrics {
  const meter = getMeter('@scoregate/gateway');
  const droppedCounter = meter.createCounter('scoregate.prediction_log.dropped', {
    description: 'Prediction events dropped because the buffer was full or the log closed',
    unit: '{event}',
  });
  const bufferedGauge = meter.createObservableGauge('scoregate.prediction_log.buffered', {
    description: 'Prediction events waiting to be sent',
    unit: '{event}',
  });
  const observeBuffered = (result: { observe(value: number): void }) => result.observe(buffered());
  bufferedGauge.addCallback(observeBuffered);
  return {
    dropped: (count, reason) => droppedCounter.add(count, { reason }),
    stop: () => bufferedGauge.removeCallback(observeBuffered),
  };
}

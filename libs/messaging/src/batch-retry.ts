import type { Logger } from '@scoregate/telemetry';
import { backoffDelay, pause, type BackoffOptions } from '@scoregate/resilience';
import type { BatchControl, BatchHandler, MessageBatch } from './messages.js';

export interface BatchRetryOptions {
  readonly retry: BackoffOptions;
  readonly logger?: Logger | undefined;
  /** An error after which the batch is not retried but ends at once (thrown on). */
  readonly isFinal?: (error: unknown) => boolean;
  /** Run after each pause, before the next attempt (a Kafka member's heartbeat). */
  readonly beforeRetry?: () => Promise<void>;
}

/**
 * Runs the handler on the batch until it succeeds (true). Each failure is logged and retried
 * after a backoff pause, nothing committed meanwhile; false when the consumer stops first
 * (`control.signal` aborts).
 */
export async function handleUntilDone(
  handle: BatchHandler,
  batch: MessageBatch,
  control: BatchControl,
  options: BatchRetryOptions,
): Promise<boolean> {
  const { signal } = control;
  for (let attempt = 1; ; attempt++) {
    try {
      await handle(batch, control);
      return true;
    } catch (error) {
      if (options.isFinal?.(error)) throw error;
      if (signal.aborted) return false;
      const delayMs = backoffDelay(options.retry, attempt);
      const { topic, partition } = batch;
      const offset = batch.messages[0]?.offset;
      options.logger?.error(
        { err: error, topic, partition, offset, attempt, delayMs },
        `handler failed on ${topic}[${partition}] at offset ${offset}; retrying in ${delayMs} ms, nothing committed`,
      );
      await pause(delayMs, signal);
      if (signal.aborted) return false;
      await options.beforeRetry?.();
    }
  }
}

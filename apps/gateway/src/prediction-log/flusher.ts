import { backoffDelay, pause, type BackoffOptions } from '@scoregate/resilience';
import { context, trace, type Logger } from '@scoregate/telemetry';
import type { EventBuffer } from './event-buffer.js';
import { encodeBatch } from './event-encoding.js';
import type { PredictionLogSink } from './sink.js';

export interface FlusherOptions {
  readonly buffer: EventBuffer;
  readonly sink: PredictionLogSink;
  /** Most events per send. */
  readonly batchSize: number;
  /** How long a partial batch waits for more events (ms). */
  readonly lingerMs: number;
  /** Pauses between attempts of a failing send. */
  readonly retry: BackoffOptions;
  readonly log: Logger;
}

/**
 * Sends the buffer's events to the sink in the background, in batches and in order. While the
 * sink fails the same batch is retried with backoff, so events arrive in order once it is back;
 * one log line when sends start failing, one when they succeed again.
 */
export class Flusher {
  private failed = 0;
  private readonly giveUp = new AbortController();
  private readonly stopped: Promise<void>;

  constructor(private readonly options: FlusherOptions) {
    // The flusher runs outside any request's trace, so a send never inherits a caller's context.
    this.stopped = context
      .with(trace.deleteSpan(context.active()), () => this.run())
      .catch((error: unknown) =>
        options.log.error({ err: error }, 'prediction log flusher stopped'),
      );
  }

  /** Sends that failed and were retried. */
  get failedSends(): number {
    return this.failed;
  }

  /**
   * Closes the buffer and waits, at most `timeoutMs`, until what it holds is sent; whatever is
   * still held then is dropped (counted, logged).
   */
  async drain(timeoutMs: number): Promise<void> {
    const { buffer, sink, log } = this.options;
    buffer.close();
    const timer = setTimeout(() => this.giveUp.abort(), timeoutMs);
    await Promise.race([this.stopped, abortedPromise(this.giveUp.signal)]);
    clearTimeout(timer);
    this.giveUp.abort();
    const left = buffer.size;
    if (left > 0) {
      log.error(
        { left, sink: sink.describe },
        `prediction log closed with ${left} events unsent after ${timeoutMs} ms`,
      );
      buffer.discardAll('close_timeout');
    }
  }

  private async run(): Promise<void> {
    const { buffer, batchSize, lingerMs } = this.options;
    let attempt = 0;
    for (;;) {
      if (buffer.size === 0) {
        if (buffer.closed) return;
        await buffer.waitForEvents();
        continue;
      }
      if (buffer.size < batchSize && !buffer.closed && attempt === 0)
        await buffer.waitForEvents(lingerMs);
      const count = Math.min(buffer.size, batchSize);
      let sent: number;
      try {
        sent = await this.sendNext(count);
      } catch (error) {
        if (await this.retryAfter(error, ++attempt)) continue;
        return;
      }
      // A close that ran out of time already gave these up (and counted them as dropped).
      if (this.giveUp.signal.aborted) return;
      buffer.release(count, sent);
      if (attempt > 0) this.noteRecovered(attempt);
      attempt = 0;
    }
  }

  /**
   * Builds and sends the next `count` events; resolves with how many were sent. Its own function
   * so that nothing of the batch stays referenced from the loop's frame while it waits.
   */
  private async sendNext(count: number): Promise<number> {
    const { buffer, sink, log } = this.options;
    const encoded = encodeBatch(buffer.peek(count), sink, (error) => {
      buffer.drop('invalid');
      log.warn({ err: error }, 'prediction log: dropped an event that cannot be encoded');
    });
    if (encoded.length > 0) await sink.send(encoded);
    return encoded.length;
  }

  /** Counts a failed send and pauses before the next attempt; false when a close gave up. */
  private async retryAfter(error: unknown, attempt: number): Promise<boolean> {
    const { buffer, sink, retry, log } = this.options;
    this.failed++;
    if (attempt === 1)
      log.warn(
        { err: error, sink: sink.describe, buffered: buffer.size },
        'prediction log: send failed; keeping events buffered and retrying',
      );
    if (this.giveUp.signal.aborted) return false;
    await pause(backoffDelay(retry, attempt), this.giveUp.signal);
    return !this.giveUp.signal.aborted;
  }

  private noteRecovered(failedAttempts: number): void {
    const { buffer, sink, log } = this.options;
    log.info(
      { sink: sink.describe, failedAttempts, buffered: buffer.size },
      'prediction log: sending again',
    );
  }
}

function abortedPromise(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { PredictionLoggedSchema } from '@scoregate/contracts';
import type { PendingEvent } from './event-buffer.js';
import type { EncodedEvent, PredictionLogSink } from './sink.js';

/**
 * The batch's events encoded for the sink, each built once (kept across retries). An event that
 * cannot be built or encoded is marked unusable, reported through `onUnusable` and skipped.
 */
export function encodeBatch(
  batch: readonly PendingEvent[],
  sink: PredictionLogSink,
  onUnusable: (error: unknown) => void,
): EncodedEvent[] {
  const encoded: EncodedEvent[] = [];
  for (const pending of batch) {
    if (pending.unusable) continue;
    if (pending.encoded === undefined) {
      try {
        const event = toEvent(pending);
        pending.encoded = {
          key: event.requestId,
          payload: sink.encode(event),
          headers: pending.headers,
        };
      } catch (error) {
        pending.unusable = true;
        onUnusable(error);
        continue;
      }
    }
    encoded.push(pending.encoded);
  }
  return encoded;
}

function toEvent(pending: PendingEvent) {
  const { init, loggedAtMs } = pending;
  const event = create(PredictionLoggedSchema, typeof init === 'function' ? init() : init);
  event.loggedAt ??= timestampFromMs(loggedAtMs);
  return event;
}

import {
  deadLetterOf,
  deadLetterTopicOf,
  type BatchHandler,
  type MessageProducer,
} from '@scoregate/messaging';
import { context, getMeter, type Logger } from '@scoregate/telemetry';
import { aheadOfClockReason, featureClockSkewGuard, type ClockSkewGuard } from '../clock-skew.js';
import type { FeatureRowWrite, FeatureStore } from '../feature-store.js';
import type { FeatureCatalog } from '../feature-views.js';
import { decodeFeatureUpdated } from './feature-updated-decoding.js';

export interface FeatureIngestorOptions {
  readonly catalog: FeatureCatalog;
  readonly store: FeatureStore;
  /** Where refused events go (`<topic>.dlq`). */
  readonly deadLetters: MessageProducer;
  readonly logger: Logger;
  /** Refuses events stamped ahead of this clock. Default: 5 s of tolerance, the process clock. */
  readonly clockSkew?: ClockSkewGuard;
}

/**
 * The batch handler of stream ingestion. Each `FeatureUpdated` is decoded and validated against
 * the feature views; the valid ones are written to the store in one conditional write (by event
 * time: duplicates and reorderings end in the newest value, so a repeated batch is harmless);
 * the others — undecodable, invalid, or stamped further ahead of this clock than the tolerance
 * (ClockSkewGuard) — go to the dead-letter topic with the reason and never hold the partition up.
 * A failing store write or dead-letter send throws: the consumer retries the batch with backoff
 * and commits nothing until it succeeds, so no event is skipped.
 */
export function createFeatureIngestor(options: FeatureIngestorOptions): BatchHandler {
  const { catalog, store, deadLetters, logger } = options;
  const clockSkew = options.clockSkew ?? featureClockSkewGuard();
  const events = getMeter('@scoregate/feature-service').createCounter(
    'scoregate.feature.ingest.events',
    { description: 'FeatureUpdated events ingested, by outcome', unit: '{event}' },
  );

  return async ({ topic, partition, messages }) => {
    const rows: FeatureRowWrite[] = [];
    const refused: { index: number; reason: string }[] = [];
    messages.forEach((message, index) => {
      const decoded = decodeFeatureUpdated(message.value, message.headers, catalog);
      if (!decoded.ok) {
        refused.push({ index, reason: decoded.reason });
        return;
      }
      const { source } = decoded.event;
      const ahead = clockSkew.check([decoded.row.eventTimeMs], source, { path: 'stream' });
      if (ahead === undefined) rows.push(decoded.row);
      else {
        const reason = aheadOfClockReason(ahead.aheadMs, clockSkew.toleranceMs, source);
        refused.push({ index, reason: `event_time ${reason}` });
      }
    });

    // The store first: if the dead-letter send fails afterwards, the retry repeats a write that
    // event time makes harmless.
    if (rows.length > 0) {
      const outcome = await store.write(rows);
      events.add(outcome.applied, { topic, outcome: 'applied' });
      events.add(outcome.skippedOlder, { topic, outcome: 'skipped_older' });
    }
    if (refused.length > 0) {
      for (const { index, reason } of refused) {
        const message = messages[index]!;
        context.with(message.traceContext, () =>
          logger.warn(
            { topic, partition, offset: message.offset, reason },
            `FeatureUpdated at ${topic}[${partition}]@${message.offset} sent to the dead-letter topic: ${reason}`,
          ),
        );
      }
      await deadLetters.send(
        deadLetterTopicOf(topic),
        refused.map(({ index, reason }) => deadLetterOf(messages[index]!, reason)),
      );
      events.add(refused.length, { topic, outcome: 'dead_lettered' });
    }
  };
}

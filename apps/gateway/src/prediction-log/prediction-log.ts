import type { MessageInitShape } from '@bufbuild/protobuf';
import type { PredictionLoggedSchema } from '@scoregate/contracts';
import { context, propagation, type Logger } from '@scoregate/telemetry';
import { EventBuffer } from './event-buffer.js';
import { createFileSink } from './file-sink.js';
import { Flusher } from './flusher.js';
import { createKafkaSink } from './kafka-sink.js';
import { createPredictionLogMetrics } from './prediction-log-metrics.js';
import { closeWithin, type PredictionLogSink } from './sink.js';

/** What `record()` takes: a PredictionLogged as built by `predictionEventFromAnswer`. */
export type PredictionEventInit = MessageInitShape<typeof PredictionLoggedSchema>;

/** An event, or a function that builds it later in the flusher. */
export type PredictionEvent = PredictionEventInit | (() => PredictionEventInit);

/** Where the events go. */
export type PredictionSink =
  | { readonly kind: 'kafka'; readonly brokers: readonly string[]; readonly topic: string }
  | { readonly kind: 'file'; readonly path: string };

export interface PredictionLogOptions {
  readonly sink: PredictionSink;
  /** Most events held (waiting or being sent); beyond it new events are dropped and counted. */
  readonly bufferSize: number;
  /** Most events per send. */
  readonly batchSize: number;
  /** How long a partial batch waits for more events (ms). */
  readonly lingerMs: number;
  /** Pause after a failed send, doubling up to `maxMs` (default 100 ms → 2 s). */
  readonly retry?: { readonly initialMs: number; readonly maxMs: number };
  /** kafkajs client id (default `scoregate-gateway`). */
  readonly clientId?: string;
}

export interface PredictionLogStats {
  /** Events accepted into the buffer. */
  readonly recorded: number;
  /** Events the sink acknowledged (broker ack or file write). */
  readonly delivered: number;
  /** Events refused (buffer full, log closed) or abandoned by a close that ran out of time. */
  readonly dropped: number;
  /** Events waiting or being sent. */
  readonly buffered: number;
  /** Sends that failed and were retried. */
  readonly failedSends: number;
}

export interface PredictionLog {
  /**
   * Queues one event; never waits for the sink and never throws. The active trace context is
   * captured now and sent in the record's headers (`traceparent`). Pass a function to build the
   * event later, in the flusher, off the request path (it must only read data that no longer
   * changes). The event must not be changed after this call. An event that cannot be built or
   * encoded is dropped (counted, logged), never retried forever.
   */
  record(event: PredictionEvent): void;
  /**
   * Queues several events of one call (a ScoreBatch's items) as `record()` would, each counted
   * on its own, sharing one capture of the trace context. When the buffer has room for only
   * some, the first ones are kept and the rest dropped and counted.
   */
  recordAll(events: readonly PredictionEvent[]): void;
  stats(): PredictionLogStats;
  /** Sends what is buffered (for at most `timeoutMs`, default 5 s), then closes the sink. */
  close(timeoutMs?: number): Promise<void>;
}

/**
 * The prediction log: every answer becomes a PredictionLogged event, queued in memory by
 * `record()` (microseconds, off the request path; see event-buffer.ts) and sent in batches by a
 * background flusher (flusher.ts) to Kafka (record key = request id) or, without brokers, to a
 * JSON-lines file. While the sink fails, events wait and the same batch is retried, so they
 * arrive in order once it is back. A full buffer drops new events; each drop is counted in
 * `stats().dropped` and in the counter `scoregate.prediction_log.dropped`, and a log line says
 * when dropping starts and stops.
 */
export function createPredictionLog(options: PredictionLogOptions, logger: Logger): PredictionLog {
  const log = logger.child({ component: 'prediction-log' });
  const sink = sinkFor(options);
  const buffer = new EventBuffer({
    bound: options.bufferSize,
    batchSize: options.batchSize,
    sinkName: sink.describe,
    log,
    onDrop: (count, reason) => metrics.dropped(count, reason),
  });
  const metrics = createPredictionLogMetrics(() => buffer.size);
  const flusher = new Flusher({
    buffer,
    sink,
    batchSize: options.batchSize,
    lingerMs: options.lingerMs,
    retry: options.retry ?? { initialMs: 100, maxMs: 2_000 },
    log,
  });
  let closed: Promise<void> | undefined;

  return {
    record: (init) => buffer.accept([init], traceHeaders),
    recordAll(inits) {
      if (inits.length > 0) buffer.accept(inits, traceHeaders);
    },
    stats: () => ({ ...buffer.counts(), failedSends: flusher.failedSends }),
    close(timeoutMs = 5_000) {
      closed ??= flusher.drain(timeoutMs).then(() => {
        metrics.stop();
        return closeWithin(sink, 1_000);
      });
      return closed;
    },
  };
}

function sinkFor({ sink, clientId }: PredictionLogOptions): PredictionLogSink {
  return sink.kind === 'kafka'
    ? createKafkaSink({
        brokers: sink.brokers,
        topic: sink.topic,
        clientId: clientId ?? 'scoregate-gateway',
      })
    : createFileSink(sink.path);
}

/** The active trace context as record headers (`traceparent`). */
function traceHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  propagation.inject(context.active(), headers);
  return headers;
}

import { open, mkdir, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { create, toBinary, toJsonString, type MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { PredictionLoggedSchema } from '@scoregate/contracts';
import { createKafkaProducer, type MessageProducer } from '@scoregate/messaging';
import { backoffDelay, pause } from '@scoregate/resilience';
import { context, getMeter, propagation, trace, type Logger } from '@scoregate/telemetry';

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

interface Pending {
  readonly init: PredictionEvent;
  readonly loggedAtMs: number;
  readonly headers: Record<string, string>;
  /** The encoded event, once the flusher built it (kept across retries). */
  ready?: Ready;
  /** Set when building it failed: skipped by every later attempt. */
  unusable?: true;
}

/** An event encoded for its sink: protobuf binary for Kafka, one JSON line for the file. */
interface Ready {
  readonly key: string;
  readonly payload: Uint8Array | string;
  readonly headers: Record<string, string>;
}

interface Sink {
  readonly describe: string;
  send(batch: readonly Ready[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * The prediction log: every answer becomes a PredictionLogged event, queued in memory by
 * `record()` (microseconds, off the request path) and sent in batches by a background flusher
 * to Kafka (record key = request id) or, without brokers, to a JSON-lines file. While the sink
 * fails, events wait and the same batch is retried, so they arrive in order once it is back.
 * A full buffer drops new events; each drop is counted in `stats().dropped` and in the counter
 * `scoregate.prediction_log.dropped`, and a log line says when dropping starts and stops.
 */
export function createPredictionLog(options: PredictionLogOptions, logger: Logger): PredictionLog {
  const log = logger.child({ component: 'prediction-log' });
  const sink = options.sink.kind === 'kafka' ? kafkaSink(options) : fileSink(options.sink.path);
  const retry = options.retry ?? { initialMs: 100, maxMs: 2_000 };
  const meter = getMeter('@scoregate/gateway');
  const droppedCounter = meter.createCounter('scoregate.prediction_log.dropped', {
    description: 'Prediction events dropped because the buffer was full or the log closed',
    unit: '{event}',
  });
  const bufferedGauge = meter.createObservableGauge('scoregate.prediction_log.buffered', {
    description: 'Prediction events waiting to be sent',
    unit: '{event}',
  });
  const observeBuffered = (result: { observe(value: number): void }) => result.observe(size());
  bufferedGauge.addCallback(observeBuffered);

  // Slots before `head` were delivered and are emptied at once: a delivered event keeps nothing
  // (its builder may hold a whole request); the array itself is compacted now and then.
  let queue: (Pending | undefined)[] = [];
  let head = 0;
  const size = () => queue.length - head;
  let recorded = 0;
  let delivered = 0;
  let dropped = 0;
  let failedSends = 0;
  let droppingSince: number | undefined;
  let closing = false;
  let waiter: (() => void) | undefined;
  const giveUp = new AbortController();

  function wake() {
    const resolve = waiter;
    waiter = undefined;
    resolve?.();
  }

  /** Resolves after `ms` (forever when undefined) or at the next wake(). */
  function waitForWake(ms?: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        if (waiter === done) waiter = undefined;
        resolve();
      }
      waiter = done;
    });
  }

  /** The batch's events built (once); an event that cannot be built is dropped, not retried. */
  function build(batch: readonly Pending[]): Ready[] {
    const ready: Ready[] = [];
    for (const pending of batch) {
      if (pending.unusable) continue;
      if (pending.ready === undefined) {
        try {
          const event = toEvent(pending);
          pending.ready = {
            key: event.requestId,
            payload:
              options.sink.kind === 'kafka'
                ? toBinary(PredictionLoggedSchema, event)
                : toJsonString(PredictionLoggedSchema, event) + '\n',
            headers: pending.headers,
          };
        } catch (error) {
          pending.unusable = true;
          drop('invalid');
          log.warn({ err: error }, 'prediction log: dropped an event that cannot be encoded');
          continue;
        }
      }
      ready.push(pending.ready);
    }
    return ready;
  }

  function drop(reason: 'buffer_full' | 'closed' | 'close_timeout' | 'invalid', count = 1) {
    dropped += count;
    droppedCounter.add(count, { reason });
    if (reason === 'buffer_full' && droppingSince === undefined) {
      droppingSince = dropped - count;
      log.warn(
        { buffered: size(), bound: options.bufferSize, sink: sink.describe },
        `prediction log buffer full (${options.bufferSize} events): dropping new events until it drains`,
      );
    }
  }

  function noteRoom() {
    if (droppingSince !== undefined && size() < options.bufferSize) {
      log.warn(
        { droppedNow: dropped - droppingSince, droppedTotal: dropped, buffered: size() },
        `prediction log buffer has room again: stopped dropping (${dropped - droppingSince} events dropped)`,
      );
      droppingSince = undefined;
    }
  }

  /**
   * Builds and sends the next `count` events; resolves with how many were sent. Its own function
   * so that nothing of the batch stays referenced from the flusher's frame while it waits.
   */
  async function sendNext(count: number): Promise<number> {
    const ready = build(queue.slice(head, head + count) as Pending[]);
    if (ready.length > 0) await sink.send(ready);
    return ready.length;
  }

  async function flushLoop(): Promise<void> {
    let attempt = 0;
    for (;;) {
      if (size() === 0) {
        if (closing) return;
        await waitForWake();
        continue;
      }
      if (size() < options.batchSize && !closing && attempt === 0)
        await waitForWake(options.lingerMs);
      const count = Math.min(size(), options.batchSize);
      let sent: number;
      try {
        sent = await sendNext(count);
      } catch (error) {
        failedSends++;
        attempt++;
        if (attempt === 1)
          log.warn(
            { err: error, sink: sink.describe, buffered: size() },
            'prediction log: send failed; keeping events buffered and retrying',
          );
        if (giveUp.signal.aborted) return;
        await pause(backoffDelay(retry, attempt), giveUp.signal);
        if (giveUp.signal.aborted) return;
        continue;
      }
      // A close that ran out of time already gave these up (and counted them as dropped).
      if (giveUp.signal.aborted) return;
      queue.fill(undefined, head, head + count);
      head += count;
      delivered += sent;
      if (head > 4096 && head * 2 > queue.length) {
        queue = queue.slice(head);
        head = 0;
      }
      if (attempt > 0) {
        log.info(
          { sink: sink.describe, failedAttempts: attempt, buffered: size() },
          'prediction log: sending again',
        );
        attempt = 0;
      }
      noteRoom();
    }
  }

  // The flusher runs outside any request's trace, so a send never inherits a caller's context.
  const flusher = context
    .with(trace.deleteSpan(context.active()), flushLoop)
    .catch((error: unknown) => log.error({ err: error }, 'prediction log flusher stopped'));
  let closed: Promise<void> | undefined;

  function enqueue(inits: readonly PredictionEvent[]): void {
    let queued = 0;
    try {
      if (closing) return drop('closed', inits.length);
      const before = size();
      const room = Math.max(0, Math.min(inits.length, options.bufferSize - before));
      if (room > 0) {
        const headers: Record<string, string> = {};
        propagation.inject(context.active(), headers);
        const loggedAtMs = Date.now();
        for (let i = 0; i < room; i++) queue.push({ init: inits[i]!, loggedAtMs, headers });
        queued = room;
        recorded += room;
        if (waiter !== undefined && (before === 0 || size() >= options.batchSize)) wake();
      }
      if (room < inits.length) drop('buffer_full', inits.length - room);
    } catch {
      // record() must never fail the answer it logs.
      dropped += inits.length - queued;
    }
  }

  return {
    record(init) {
      enqueue([init]);
    },

    recordAll(inits) {
      if (inits.length > 0) enqueue(inits);
    },

    stats() {
      return { recorded, delivered, dropped, buffered: size(), failedSends };
    },

    close(timeoutMs = 5_000) {
      closed ??= (async () => {
        closing = true;
        wake();
        const timer = setTimeout(() => giveUp.abort(), timeoutMs);
        await Promise.race([flusher, abortedPromise(giveUp.signal)]);
        clearTimeout(timer);
        giveUp.abort();
        const left = size();
        if (left > 0) {
          log.error(
            { left, sink: sink.describe },
            `prediction log closed with ${left} events unsent after ${timeoutMs} ms`,
          );
          queue = [];
          head = 0;
          drop('close_timeout', left);
        }
        bufferedGauge.removeCallback(observeBuffered);
        await Promise.race([sink.close().catch(() => undefined), delay(1_000)]);
      })();
      return closed;
    },
  };
}

/** The headers every event record carries (scoregate.events.v1), besides its trace context. */
const EVENT_HEADERS = {
  'content-type': 'application/x-protobuf',
  type: PredictionLoggedSchema.typeName,
};

function kafkaSink(options: PredictionLogOptions): Sink {
  const { brokers, topic } = options.sink as Extract<PredictionSink, { kind: 'kafka' }>;
  let producer: Promise<MessageProducer> | undefined;
  return {
    describe: `kafka ${topic} @ ${brokers.join(',')}`,
    async send(batch) {
      // kafkajs errors are reported by the flusher, once per outage, not per retry.
      const current = (producer ??= createKafkaProducer({
        brokers,
        clientId: options.clientId ?? 'scoregate-gateway',
      }));
      try {
        await (
          await current
        ).send(
          topic,
          batch.map((p) => ({
            key: p.key,
            value: p.payload as Uint8Array,
            headers: { ...EVENT_HEADERS, ...p.headers },
          })),
        );
      } catch (error) {
        // A fresh producer after a failure: new connections and a new idempotence epoch.
        if (producer === current) producer = undefined;
        current.then((p) => p.close()).catch(() => undefined);
        throw error;
      }
    },
    async close() {
      const current = producer;
      producer = undefined;
      if (current !== undefined) await (await current).close();
    },
  };
}

function fileSink(path: string): Sink {
  let handle: Promise<FileHandle> | undefined;
  return {
    describe: `file ${path}`,
    async send(batch) {
      const current = (handle ??= mkdir(dirname(path), { recursive: true }).then(() =>
        open(path, 'a'),
      ));
      try {
        await (await current).appendFile(batch.map((p) => p.payload).join(''), 'utf8');
      } catch (error) {
        if (handle === current) handle = undefined;
        current.then((h) => h.close()).catch(() => undefined);
        throw error;
      }
    },
    async close() {
      const current = handle;
      handle = undefined;
      if (current !== undefined) await (await current).close();
    },
  };
}

function toEvent(p: Pending) {
  const event = create(PredictionLoggedSchema, typeof p.init === 'function' ? p.init() : p.init);
  event.loggedAt ??= timestampFromMs(p.loggedAtMs);
  return event;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function abortedPromise(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

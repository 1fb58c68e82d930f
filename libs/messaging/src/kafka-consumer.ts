import type { Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import { context, type Logger } from '@scoregate/telemetry';
import { defaultBackoff, type BackoffOptions } from '@scoregate/resilience';
import { handleUntilDone } from './batch-retry.js';
import { createLagReader } from './kafka-admin.js';
import { createKafkaClient, type KafkaConnection } from './kafka-client.js';
import { registerConsumerLag } from './consumer-lag-metric.js';
import type {
  BatchControl,
  BatchHandler,
  ConsumedMessage,
  ConsumerHandler,
  MessageBatch,
  MessageConsumer,
} from './messages.js';
import { traceContextOf } from './trace-headers.js';

export type KafkaConsumerOptions = KafkaConnection &
  ConsumerHandler & {
    readonly groupId: string;
    readonly topics: readonly string[];
    /** Where a group with no committed offset starts: the log start (default) or its end. */
    readonly fromBeginning?: boolean;
    /** At most this many messages per handler call, committed together (default 1000). */
    readonly maxBatchMessages?: number;
    /** Partitions handled at the same time, each in order (default 3). */
    readonly partitionsConsumedConcurrently?: number;
    /** Delays between attempts of a failing handler. */
    readonly retry?: BackoffOptions;
    /**
     * How long the group waits for a silent member (a killed process) before handing its
     * partitions to the others (default 30 s; the broker accepts 6 s and more by default).
     */
    readonly sessionTimeoutMs?: number;
    /**
     * Called when the client gave up for good (a crash kafkajs does not restart from): the member
     * consumes no more, so a process would rather exit and be restarted.
     */
    readonly onFatalError?: (error: Error) => void;
  };

/**
 * A group member that has joined and is consuming when the promise resolves. At least once:
 * offsets are committed only after the handler finished the messages below them (autoCommit off,
 * an explicit commit after each handler call); a failing handler is retried with backoff and its
 * messages are never committed nor skipped; a rebalance ends the batch in hand without committing
 * what was not done, so the partition's next owner repeats at most that.
 */
export async function createKafkaConsumer(options: KafkaConsumerOptions): Promise<MessageConsumer> {
  const { groupId, topics } = options;
  if (topics.length === 0) throw new Error('Kafka consumer: at least one topic is required');
  const logger = options.logger?.child({ component: 'kafka-consumer', group: groupId });
  const stopping = new AbortController();
  const consumer = groupMember(options, logger, stopping.signal);
  await consumer.connect();
  await consumer.subscribe({ topics: [...topics], fromBeginning: options.fromBeginning ?? true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 3,
    eachBatch: batchConsumer({
      handle: toBatchHandler(options),
      maxBatch: options.maxBatchMessages ?? 1000,
      retry: options.retry ?? defaultBackoff,
      logger,
      signal: stopping.signal,
    }),
  });

  const lagReader = createLagReader(options, groupId, topics);
  const unregister = registerConsumerLag({ group: groupId, read: () => lagReader.read() });
  let stopped: Promise<void> | undefined;
  return {
    stop() {
      stopped ??= (async () => {
        stopping.abort();
        unregister();
        // Waits for the batch in hand (which finishes its chunk and commits) before leaving.
        await consumer.disconnect();
        await lagReader.close();
      })();
      return stopped;
    },
    lag: () => lagReader.read(),
  };
}

/** The kafkajs group member; a crash is logged, and one it does not restart from reported. */
function groupMember(
  options: KafkaConsumerOptions,
  logger: Logger | undefined,
  stopping: AbortSignal,
): Consumer {
  const sessionTimeout = options.sessionTimeoutMs ?? 30_000;
  const consumer = createKafkaClient(options).consumer({
    groupId: options.groupId,
    sessionTimeout,
    heartbeatInterval: Math.min(3_000, Math.floor(sessionTimeout / 3)),
    // Whole batches per partition; the handler sees them in chunks of maxBatch.
    maxBytesPerPartition: 4 * 1024 * 1024,
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    logger?.error(
      { err: payload.error, restart: payload.restart },
      payload.restart ? 'Kafka consumer crashed; restarting' : 'Kafka consumer crashed for good',
    );
    if (!payload.restart && !stopping.aborted) options.onFatalError?.(payload.error);
  });
  return consumer;
}

interface BatchConsumerSettings {
  readonly handle: BatchHandler;
  /** Most messages per handler call. */
  readonly maxBatch: number;
  readonly retry: BackoffOptions;
  readonly logger: Logger | undefined;
  /** Aborted when the consumer stops. */
  readonly signal: AbortSignal;
}

/**
 * Handles a fetched batch in chunks of `maxBatch`: each chunk until the handler succeeds, then
 * its offsets are committed. A rebalance (a heartbeat that fails) ends the batch uncommitted;
 * kafkajs rejoins.
 */
function batchConsumer({ handle, maxBatch, retry, logger, signal }: BatchConsumerSettings) {
  return async (payload: EachBatchPayload): Promise<void> => {
    const { batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale } =
      payload;
    const { topic, partition } = batch;
    const messages = batch.messages.map((m) => toConsumedMessage(topic, partition, m));
    let rebalanced = false;
    const control: BatchControl = {
      signal,
      heartbeat: async () => {
        try {
          await heartbeat();
        } catch (error) {
          rebalanced = true;
          throw error;
        }
      },
    };
    const retryOptions = { retry, logger, isFinal: () => rebalanced, beforeRetry: heartbeat };
    for (let start = 0; start < messages.length; start += maxBatch) {
      if (signal.aborted || !isRunning() || isStale()) return;
      const chunk = messages.slice(start, start + maxBatch);
      const piece: MessageBatch = { topic, partition, messages: chunk };
      const done = await handleUntilDone(handle, piece, control, retryOptions);
      if (!done) return;
      const last = start + maxBatch >= messages.length ? batch.lastOffset() : chunk.at(-1)!.offset;
      resolveOffset(last);
      await commitOffsetsIfNecessary({
        topics: [{ topic, partitions: [{ partition, offset: (BigInt(last) + 1n).toString() }] }],
      });
      await heartbeat();
    }
  };
}

/** The batch handler to call: the given one, or one that runs each message in its trace context. */
export function toBatchHandler(handler: ConsumerHandler) {
  if (handler.handleBatch !== undefined) return handler.handleBatch;
  const handleMessage = handler.handleMessage;
  return async (batch: MessageBatch, control: BatchControl) => {
    for (const message of batch.messages)
      await context.with(message.traceContext, () => handleMessage(message, control));
  };
}

const EMPTY = new Uint8Array(0);

function toConsumedMessage(
  topic: string,
  partition: number,
  message: KafkaMessage,
): ConsumedMessage {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    if (value === undefined) continue;
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) headers[name] = first.toString('utf8');
  }
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key ?? undefined,
    value: message.value ?? EMPTY,
    headers,
    traceContext: traceContextOf(headers),
  };
}

import type { Context } from '@opentelemetry/api';

/** One record to publish. Payloads are bytes (binary protobuf); headers are UTF-8 strings. */
export interface OutgoingRecord {
  /** Records with the same key land on the same partition, in order. */
  readonly key?: string | Uint8Array;
  readonly value: Uint8Array;
  readonly headers?: Readonly<Record<string, string>>;
  /** An explicit partition; otherwise chosen from the key. */
  readonly partition?: number;
}

/** Publishes records; `send` resolves once the broker acknowledged every record. */
export interface MessageProducer {
  send(topic: string, records: readonly OutgoingRecord[]): Promise<void>;
  close(): Promise<void>;
}

/** One consumed record. */
export interface ConsumedMessage {
  readonly topic: string;
  readonly partition: number;
  /** Decimal offset (int64 as text, as Kafka reports it). */
  readonly offset: string;
  readonly key: Uint8Array | undefined;
  readonly value: Uint8Array;
  readonly headers: Readonly<Record<string, string>>;
  /** The producer's trace context (from the `traceparent` header), or the root context. */
  readonly traceContext: Context;
}

/** A run of consecutive messages of one partition, in offset order. */
export interface MessageBatch {
  readonly topic: string;
  readonly partition: number;
  readonly messages: readonly ConsumedMessage[];
}

/** What a handler may do while it works on a batch. */
export interface BatchControl {
  /** Aborted when the consumer stops; a handler stuck retrying should give up (nothing is committed). */
  readonly signal: AbortSignal;
  /**
   * Tells the group this member is alive; call it during long work. Rejects when the group is
   * rebalancing, which ends the batch without committing it (the partition's next owner repeats it).
   */
  heartbeat(): Promise<void>;
}

/**
 * Handles a batch. Resolving means every message of the batch is done and may be committed;
 * throwing means none is: the batch is retried with backoff, never skipped.
 */
export type BatchHandler = (batch: MessageBatch, control: BatchControl) => Promise<void>;

/** Handles one message, run inside the message's trace context. Same contract as a batch. */
export type MessageHandler = (message: ConsumedMessage, control: BatchControl) => Promise<void>;

/** Consumer lag of one partition: messages written but not yet processed by the group. */
export interface PartitionLag {
  readonly topic: string;
  readonly partition: number;
  /** Offset of the next message the broker will write (the high watermark). */
  readonly highWatermark: string;
  /** Next offset the group will process (its committed offset; the log start when none). */
  readonly committedOffset: string;
  readonly lag: number;
}

/** A running group member. */
export interface MessageConsumer {
  /** Finishes the batch in hand (committing it), then leaves the group. Idempotent. */
  stop(): Promise<void>;
  /** Current lag of every partition of the subscribed topics. */
  lag(): Promise<PartitionLag[]>;
}

/** Either handler, never both. */
export type ConsumerHandler =
  | { readonly handleBatch: BatchHandler; readonly handleMessage?: never }
  | { readonly handleMessage: MessageHandler; readonly handleBatch?: never };

/** A topic to create. */
export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
}

import type { Logger } from '@scoregate/telemetry';
import { backoffDelay, defaultBackoff, pause, type BackoffOptions } from '@scoregate/resilience';
import { registerConsumerLag } from './consumer-lag-metric.js';
import { toBatchHandler } from './kafka-consumer.js';
import type {
  BatchControl,
  ConsumedMessage,
  ConsumerHandler,
  MessageBatch,
  MessageConsumer,
  MessageProducer,
  PartitionLag,
  TopicSpec,
} from './messages.js';
import { traceContextOf, withTraceHeaders } from './trace-headers.js';

export type InProcessConsumerOptions = ConsumerHandler & {
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly logger?: Logger;
  /** At most this many messages per handler call (default 1000). */
  readonly maxBatchMessages?: number;
  readonly retry?: BackoffOptions;
};

/** Topics, partitions and consumer groups inside one process, with Kafka's delivery contract. */
export interface InProcessBus {
  producer(): MessageProducer;
  /** A group member, consuming from the start of the log when its group is new. */
  consumer(options: InProcessConsumerOptions): MessageConsumer;
  /** Creates topics with a partition count; topics are otherwise created on first use. */
  createTopics(topics: readonly TopicSpec[]): void;
}

export interface InProcessBusOptions {
  /** Partitions of a topic created on first use (default 1). */
  readonly defaultPartitions?: number;
}

interface Partition {
  readonly log: ConsumedMessage[];
}

interface Member {
  readonly groupId: string;
  readonly topics: ReadonlySet<string>;
  readonly options: InProcessConsumerOptions;
  readonly stopping: AbortController;
  readonly handle: (batch: MessageBatch, control: BatchControl) => Promise<void>;
}

interface Group {
  readonly members: Member[];
  /** Next offset to process, by `topic/partition`. */
  readonly committed: Map<string, number>;
  /** Partitions being worked on, with the work's completion. */
  readonly running: Map<string, Promise<void>>;
}

/**
 * An in-process bus for embedded mode and unit tests: records are kept in memory per topic and
 * partition; each group's partitions are spread over its members, handled in order one batch at
 * a time, committed only after the handler resolved, retried with backoff when it throws.
 */
export function createInProcessBus(options: InProcessBusOptions = {}): InProcessBus {
  const defaultPartitions = options.defaultPartitions ?? 1;
  const topics = new Map<string, Partition[]>();
  const groups = new Map<string, Group>();
  let roundRobin = 0;

  function topic(name: string, partitions = defaultPartitions): Partition[] {
    let found = topics.get(name);
    if (found === undefined) {
      found = Array.from({ length: partitions }, () => ({ log: [] }));
      topics.set(name, found);
    }
    return found;
  }

  function ownerOf(group: Group, topicName: string, partition: number): Member | undefined {
    const members = group.members.filter(
      (m) => m.topics.has(topicName) && !m.stopping.signal.aborted,
    );
    return members.length === 0 ? undefined : members[partition % members.length];
  }

  function wake(group: Group) {
    for (const [topicName, partitions] of topics)
      partitions.forEach((_, partition) => drive(group, topicName, partition));
  }

  /** Works through one partition for one group until it is caught up or has no owner. */
  function drive(group: Group, topicName: string, partition: number) {
    const id = `${topicName}/${partition}`;
    if (group.running.has(id)) return;
    const log = topic(topicName)[partition]!.log;
    const work = (async () => {
      for (;;) {
        const owner = ownerOf(group, topicName, partition);
        const from = group.committed.get(id) ?? 0;
        if (owner === undefined || from >= log.length) return;
        const max = owner.options.maxBatchMessages ?? 1000;
        const batch = { topic: topicName, partition, messages: log.slice(from, from + max) };
        if (await handleWithRetry(owner, batch))
          group.committed.set(id, from + batch.messages.length);
      }
    })().finally(() => {
      group.running.delete(id);
      // A record may have arrived, or the owner changed, after the loop's last look.
      const owner = ownerOf(group, topicName, partition);
      if (owner !== undefined && (group.committed.get(id) ?? 0) < log.length)
        drive(group, topicName, partition);
    });
    group.running.set(id, work);
  }

  /** True when the handler finished the batch; false when its member stopped first. */
  async function handleWithRetry(member: Member, batch: MessageBatch): Promise<boolean> {
    const { signal } = member.stopping;
    const control: BatchControl = { signal, heartbeat: async () => undefined };
    const retry = member.options.retry ?? defaultBackoff;
    for (let attempt = 1; ; attempt++) {
      try {
        await member.handle(batch, control);
        return true;
      } catch (error) {
        if (signal.aborted) return false;
        const delayMs = backoffDelay(retry, attempt);
        member.options.logger?.error(
          { err: error, topic: batch.topic, partition: batch.partition, attempt, delayMs },
          `handler failed on ${batch.topic}[${batch.partition}]; retrying in ${delayMs} ms, nothing committed`,
        );
        await pause(delayMs, signal);
        if (signal.aborted) return false;
      }
    }
  }

  return {
    createTopics(specs) {
      for (const spec of specs) topic(spec.name, spec.partitions);
    },

    producer() {
      let closed = false;
      return {
        async send(topicName, records) {
          if (closed) throw new Error('in-process producer: closed');
          const partitions = topic(topicName);
          for (const record of records) {
            const partition =
              record.partition ??
              (record.key === undefined
                ? roundRobin++ % partitions.length
                : hash(record.key) % partitions.length);
            const target = partitions[partition];
            if (target === undefined)
              throw new Error(`in-process producer: ${topicName} has no partition ${partition}`);
            const headers = withTraceHeaders(record.headers);
            target.log.push({
              topic: topicName,
              partition,
              offset: String(target.log.length),
              key: typeof record.key === 'string' ? Buffer.from(record.key, 'utf8') : record.key,
              value: record.value,
              headers,
              traceContext: traceContextOf(headers),
            });
          }
          for (const group of groups.values()) wake(group);
        },
        async close() {
          closed = true;
        },
      };
    },

    consumer(consumerOptions) {
      let group = groups.get(consumerOptions.groupId);
      if (group === undefined) {
        group = { members: [], committed: new Map(), running: new Map() };
        groups.set(consumerOptions.groupId, group);
      }
      const joined = group;
      for (const name of consumerOptions.topics) topic(name);
      const member: Member = {
        groupId: consumerOptions.groupId,
        topics: new Set(consumerOptions.topics),
        options: consumerOptions,
        stopping: new AbortController(),
        handle: toBatchHandler(consumerOptions),
      };
      joined.members.push(member);
      wake(joined);

      const lag = async (): Promise<PartitionLag[]> =>
        consumerOptions.topics.flatMap((name) =>
          topic(name).map(({ log }, partition) => {
            const committed = joined.committed.get(`${name}/${partition}`) ?? 0;
            return {
              topic: name,
              partition,
              highWatermark: String(log.length),
              committedOffset: String(committed),
              lag: log.length - committed,
            };
          }),
        );
      const unregister = registerConsumerLag({ group: consumerOptions.groupId, read: lag });
      let stopped: Promise<void> | undefined;
      return {
        lag,
        stop() {
          stopped ??= (async () => {
            member.stopping.abort();
            unregister();
            // The batch in hand finishes (and is committed when it succeeds).
            await Promise.allSettled([...joined.running.values()]);
            joined.members.splice(joined.members.indexOf(member), 1);
            wake(joined);
          })();
          return stopped;
        },
      };
    },
  };
}

/** FNV-1a over the key's bytes: the same key always lands on the same partition. */
function hash(key: string | Uint8Array): number {
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  let h = 0x811c9dc5;
  for (const byte of bytes) h = Math.imul(h ^ byte, 0x01000193);
  return h >>> 0;
}

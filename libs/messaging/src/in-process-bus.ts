import type { Logger } from '@scoregate/telemetry';
import type { BackoffOptions } from '@scoregate/resilience';
import { registerConsumerLag } from './consumer-lag-metric.js';
import { ConsumerGroup, type Member } from './in-process-group.js';
import { InProcessTopics } from './in-process-topics.js';
import { toBatchHandler } from './kafka-consumer.js';
import type {
  ConsumerHandler,
  MessageConsumer,
  MessageProducer,
  PartitionLag,
  TopicSpec,
} from './messages.js';

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

/**
 * An in-process bus for embedded mode and unit tests: records are kept in memory per topic and
 * partition; each group's partitions are spread over its members, handled in order one batch at
 * a time, committed only after the handler resolved, retried with backoff when it throws.
 */
export function createInProcessBus(options: InProcessBusOptions = {}): InProcessBus {
  const topics = new InProcessTopics(options.defaultPartitions ?? 1);
  const groups = new Map<string, ConsumerGroup>();
  const groupFor = (groupId: string) => {
    let group = groups.get(groupId);
    if (group === undefined) {
      group = new ConsumerGroup(topics);
      groups.set(groupId, group);
    }
    return group;
  };

  return {
    createTopics(specs) {
      for (const spec of specs) topics.partitions(spec.name, spec.partitions);
    },

    producer() {
      let closed = false;
      return {
        async send(topic, records) {
          if (closed) throw new Error('in-process producer: closed');
          topics.append(topic, records);
          for (const group of groups.values()) group.wake();
        },
        async close() {
          closed = true;
        },
      };
    },

    consumer: (consumerOptions) =>
      joinGroup(groupFor(consumerOptions.groupId), topics, consumerOptions),
  };
}

/** A new member of the group, consuming until stopped; its lag is published as a metric. */
function joinGroup(
  group: ConsumerGroup,
  topics: InProcessTopics,
  options: InProcessConsumerOptions,
): MessageConsumer {
  for (const name of options.topics) topics.partitions(name);
  const member: Member = {
    topics: new Set(options.topics),
    options,
    stopping: new AbortController(),
    handle: toBatchHandler(options),
  };
  group.join(member);
  const lag = async (): Promise<PartitionLag[]> => group.lag(options.topics);
  const unregister = registerConsumerLag({ group: options.groupId, read: lag });
  let stopped: Promise<void> | undefined;
  return {
    lag,
    stop() {
      stopped ??= (async () => {
        unregister();
        await group.leave(member);
      })();
      return stopped;
    },
  };
}

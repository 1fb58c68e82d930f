import { createKafkaClient, type KafkaConnection } from './kafka-client.js';
import type { PartitionLag, TopicSpec } from './messages.js';

/**
 * Creates topics that do not exist yet (replication factor 1: for tests and local tools) and
 * waits until every partition has a leader.
 */
export async function createTopics(
  brokers: readonly string[],
  topics: readonly TopicSpec[],
): Promise<void> {
  const admin = createKafkaClient({ brokers, clientId: 'scoregate-admin' }).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: topics.map((topic) => ({
        topic: topic.name,
        numPartitions: topic.partitions,
        replicationFactor: 1,
      })),
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
}

/** A consumer group's lag as the brokers see it now (for tools and tests outside the consumer). */
export async function fetchConsumerLag(
  connection: KafkaConnection,
  groupId: string,
  topics: readonly string[],
): Promise<PartitionLag[]> {
  const reader = createLagReader(connection, groupId, topics);
  try {
    return await reader.read();
  } finally {
    await reader.close();
  }
}

/** Reads a group's lag from the brokers: high watermark − committed offset, per partition. */
export function createLagReader(
  connection: KafkaConnection,
  groupId: string,
  topics: readonly string[],
): { read(): Promise<PartitionLag[]>; close(): Promise<void> } {
  const admin = createKafkaClient(connection).admin();
  let connected: Promise<void> | undefined;
  return {
    async read() {
      connected ??= admin.connect();
      await connected;
      const committed = await admin.fetchOffsets({ groupId, topics: [...topics] });
      const result: PartitionLag[] = [];
      for (const topic of topics) {
        const watermarks = await admin.fetchTopicOffsets(topic);
        const byPartition = new Map(
          committed
            .find((entry) => entry.topic === topic)
            ?.partitions.map((p) => [p.partition, p.offset]),
        );
        for (const { partition, high, low } of watermarks) {
          const offset = byPartition.get(partition);
          // -1: nothing committed yet; the group starts at the log start.
          const from = offset === undefined || BigInt(offset) < 0n ? low : offset;
          const lag = BigInt(high) - BigInt(from);
          result.push({
            topic,
            partition,
            highWatermark: high,
            committedOffset: from,
            lag: Number(lag > 0n ? lag : 0n),
          });
        }
      }
      return result.sort((a, b) =>
        a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1,
      );
    },
    async close() {
      if (connected !== undefined)
        await connected.then(
          () => admin.disconnect(),
          () => undefined,
        );
    },
  };
}

import { defaultBackoff } from '@scoregate/resilience';
import { handleUntilDone } from './batch-retry.js';
import type { InProcessConsumerOptions } from './in-process-bus.js';
import type { InProcessTopics } from './in-process-topics.js';
import type { BatchControl, MessageBatch, PartitionLag } from './messages.js';

/** One consumer of a group. */
export interface Member {
  readonly topics: ReadonlySet<string>;
  readonly options: InProcessConsumerOptions;
  readonly stopping: AbortController;
  readonly handle: (batch: MessageBatch, control: BatchControl) => Promise<void>;
}

/**
 * A consumer group inside one process: each partition is owned by one of the group's members,
 * handled in order one batch at a time and committed only after the handler resolved.
 */
export class ConsumerGroup {
  private readonly members: Member[] = [];
  /** Next offset to process, by `topic/partition`. */
  private readonly committed = new Map<string, number>();
  /** Partitions being worked on, with the work's completion. */
  private readonly running = new Map<string, Promise<void>>();

  constructor(private readonly topics: InProcessTopics) {}

  join(member: Member): void {
    this.members.push(member);
    this.wake();
  }

  /** Stops the member: the batch in hand finishes (and is committed when it succeeds). */
  async leave(member: Member): Promise<void> {
    member.stopping.abort();
    await Promise.allSettled([...this.running.values()]);
    this.members.splice(this.members.indexOf(member), 1);
    this.wake();
  }

  /** Starts work on every partition that has records to process and an owner. */
  wake(): void {
    for (const [topic, partitions] of this.topics.all())
      partitions.forEach((_, partition) => this.drive(topic, partition));
  }

  lag(topics: readonly string[]): PartitionLag[] {
    return topics.flatMap((topic) =>
      this.topics.partitions(topic).map(({ log }, partition) => {
        const committed = this.committed.get(`${topic}/${partition}`) ?? 0;
        return {
          topic,
          partition,
          highWatermark: String(log.length),
          committedOffset: String(committed),
          lag: log.length - committed,
        };
      }),
    );
  }

  /** Works through one partition until it is caught up or has no owner. */
  private drive(topic: string, partition: number): void {
    const id = `${topic}/${partition}`;
    if (this.running.has(id)) return;
    const log = this.topics.partitions(topic)[partition]!.log;
    const work = (async () => {
      // Yield first, so `running` holds this partition before the handler runs: a handler that
      // sends synchronously wakes the groups, and must not start a second loop on its own batch.
      await Promise.resolve();
      for (;;) {
        const owner = this.ownerOf(topic, partition);
        const from = this.committed.get(id) ?? 0;
        if (owner === undefined || from >= log.length) return;
        const max = owner.options.maxBatchMessages ?? 1000;
        const batch = { topic, partition, messages: log.slice(from, from + max) };
        if (await handleBatch(owner, batch)) this.committed.set(id, from + batch.messages.length);
      }
    })().finally(() => {
      this.running.delete(id);
      // A record may have arrived, or the owner changed, after the loop's last look.
      const owner = this.ownerOf(topic, partition);
      if (owner !== undefined && (this.committed.get(id) ?? 0) < log.length)
        this.drive(topic, partition);
    });
    this.running.set(id, work);
  }

  private ownerOf(topic: string, partition: number): Member | undefined {
    const members = this.members.filter((m) => m.topics.has(topic) && !m.stopping.signal.aborted);
    return members.length === 0 ? undefined : members[partition % members.length];
  }
}

/** True when the member's handler finished the batch; false when the member stopped first. */
function handleBatch(member: Member, batch: MessageBatch): Promise<boolean> {
  const control: BatchControl = {
    signal: member.stopping.signal,
    heartbeat: async () => undefined,
  };
  return handleUntilDone(member.handle, batch, control, {
    retry: member.options.retry ?? defaultBackoff,
    logger: member.options.logger,
  });
}

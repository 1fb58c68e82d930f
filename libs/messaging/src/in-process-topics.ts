import type { ConsumedMessage, OutgoingRecord } from './messages.js';
import { traceContextOf, withTraceHeaders } from './trace-headers.js';

/** One partition's records, in offset order (the offset is the index). */
export interface Partition {
  readonly log: ConsumedMessage[];
}

/** The topics of an in-process bus, created on first use, and their partitions' logs. */
export class InProcessTopics {
  private readonly topics = new Map<string, Partition[]>();
  private roundRobin = 0;

  constructor(private readonly defaultPartitions: number) {}

  /** The topic's partitions; a new topic gets `partitions` of them. */
  partitions(name: string, partitions = this.defaultPartitions): Partition[] {
    let found = this.topics.get(name);
    if (found === undefined) {
      found = Array.from({ length: partitions }, () => ({ log: [] }));
      this.topics.set(name, found);
    }
    return found;
  }

  /** Every topic with its partitions. */
  all(): Iterable<[string, Partition[]]> {
    return this.topics.entries();
  }

  /**
   * Appends records to a topic: to the record's partition, else the key's (the same key always
   * lands on the same partition), else the next one in turn. Each carries the trace context.
   */
  append(topic: string, records: readonly OutgoingRecord[]): void {
    const partitions = this.partitions(topic);
    for (const record of records) {
      const partition =
        record.partition ??
        (record.key === undefined
          ? this.roundRobin++ % partitions.length
          : hash(record.key) % partitions.length);
      const target = partitions[partition];
      if (target === undefined)
        throw new Error(`in-process producer: ${topic} has no partition ${partition}`);
      const headers = withTraceHeaders(record.headers);
      target.log.push({
        topic,
        partition,
        offset: String(target.log.length),
        key: typeof record.key === 'string' ? Buffer.from(record.key, 'utf8') : record.key,
        value: record.value,
        headers,
        traceContext: traceContextOf(headers),
      });
    }
  }
}

/** FNV-1a over the key's bytes. */
function hash(key: string | Uint8Array): number {
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  let h = 0x811c9dc5;
  for (const byte of bytes) h = Math.imul(h ^ byte, 0x01000193);
  return h >>> 0;
}

import type { ConsumedMessage, OutgoingRecord } from './messages.js';

/** Headers a dead letter carries besides the original record's own. */
export const deadLetterHeaders = {
  reason: 'dlq-reason',
  topic: 'dlq-original-topic',
  partition: 'dlq-original-partition',
  offset: 'dlq-original-offset',
} as const;

/** The dead-letter topic of `topic`. */
export function deadLetterTopicOf(topic: string): string {
  return `${topic}.dlq`;
}

/** The original record (key, value, headers) with why it was refused and where it came from. */
export function deadLetterOf(message: ConsumedMessage, reason: string): OutgoingRecord {
  return {
    ...(message.key === undefined ? {} : { key: message.key }),
    value: message.value,
    headers: {
      ...message.headers,
      [deadLetterHeaders.reason]: reason,
      [deadLetterHeaders.topic]: message.topic,
      [deadLetterHeaders.partition]: String(message.partition),
      [deadLetterHeaders.offset]: message.offset,
    },
  };
}

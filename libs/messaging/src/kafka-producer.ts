import { CompressionTypes, type Message } from 'kafkajs';
import { createKafkaClient, type KafkaConnection } from './kafka-client.js';
import type { MessageProducer } from './messages.js';
import { withTraceHeaders } from './trace-headers.js';

export type KafkaProducerOptions = KafkaConnection;

/**
 * A connected Kafka producer. Idempotent (acks from all in-sync replicas, one request in flight
 * per connection, broker-side de-duplication of retries), so a retried send never writes a
 * record twice or out of order. Each record carries the active trace context in its headers.
 */
export async function createKafkaProducer(options: KafkaProducerOptions): Promise<MessageProducer> {
  const producer = createKafkaClient(options).producer({
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  let closed: Promise<void> | undefined;
  return {
    async send(topic, records) {
      if (records.length === 0) return;
      const messages: Message[] = records.map((record) => ({
        key: record.key === undefined ? null : toBuffer(record.key),
        value: toBuffer(record.value),
        headers: withTraceHeaders(record.headers),
        ...(record.partition === undefined ? {} : { partition: record.partition }),
      }));
      await producer.send({ topic, messages, acks: -1, compression: CompressionTypes.None });
    },
    close() {
      closed ??= producer.disconnect();
      return closed;
    },
  };
}

function toBuffer(data: string | Uint8Array): Buffer {
  return typeof data === 'string'
    ? Buffer.from(data, 'utf8')
    : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

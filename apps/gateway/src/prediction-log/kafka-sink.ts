import { toBinary } from '@bufbuild/protobuf';
import { PredictionLoggedSchema } from '@scoregate/contracts';
import { createKafkaProducer } from '@scoregate/messaging';
import { reopening, type PredictionLogSink } from './sink.js';

/** The headers every event record carries (scoregate.events.v1), besides its trace context. */
const EVENT_HEADERS = {
  'content-type': 'application/x-protobuf',
  type: PredictionLoggedSchema.typeName,
};

export interface KafkaSinkOptions {
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly clientId: string;
}

/** Sends each event as one binary protobuf record, keyed by its request id. */
export function createKafkaSink({ brokers, topic, clientId }: KafkaSinkOptions): PredictionLogSink {
  const producer = reopening(
    () => createKafkaProducer({ brokers, clientId }),
    (p) => p.close(),
  );
  return {
    describe: `kafka ${topic} @ ${brokers.join(',')}`,
    encode: (event) => toBinary(PredictionLoggedSchema, event),
    send: (batch) =>
      producer.use((p) =>
        p.send(
          topic,
          batch.map((e) => ({
            key: e.key,
            value: e.payload as Uint8Array,
            headers: { ...EVENT_HEADERS, ...e.headers },
          })),
        ),
      ),
    close: () => producer.close(),
  };
}

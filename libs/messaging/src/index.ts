export type {
  BatchControl,
  BatchHandler,
  ConsumedMessage,
  ConsumerHandler,
  MessageBatch,
  MessageConsumer,
  MessageHandler,
  MessageProducer,
  OutgoingRecord,
  PartitionLag,
  TopicSpec,
} from './messages.js';
export { parseBrokers, type KafkaConnection } from './kafka-client.js';
export { createKafkaProducer, type KafkaProducerOptions } from './kafka-producer.js';
export { createKafkaConsumer, type KafkaConsumerOptions } from './kafka-consumer.js';
export { createTopics, fetchConsumerLag } from './kafka-admin.js';
export {
  createInProcessBus,
  type InProcessBus,
  type InProcessBusOptions,
  type InProcessConsumerOptions,
} from './in-process-bus.js';
export { deadLetterHeaders, deadLetterOf, deadLetterTopicOf } from './dead-letters.js';

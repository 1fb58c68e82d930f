export { startPrivateRedis, type PrivateRedis } from './private-redis.js';
export { createPrivateKafka, type PrivateKafka } from './private-kafka.js';

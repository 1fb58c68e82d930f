export { startPrivateRedis, type PrivateRedis } from './private-redis.js';

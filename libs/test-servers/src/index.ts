export { seededRandom } from './seeded-random.js';
export { startPrivateRedis, type PrivateRedis } from './private-redis.js';
export { createPrivateKafka, type PrivateKafka } from './private-kafka.js';
export {
  connectHeapInspector,
  INSPECT_ON_FREE_PORT,
  INSPECTOR_ANNOUNCEMENT,
  type HeapInspector,
  type HeapUsage,
  type MemoryUsage,
} from './heap-inspector.js';
export {
  createMalformedScoreRequests,
  type MalformedKind,
  type MalformedRequest,
} from './malformed-score-requests.js';
export {
  sendMalformedScoreCalls,
  type MalformedTrafficOptions,
  type StatusCounts,
} from './malformed-traffic.js';

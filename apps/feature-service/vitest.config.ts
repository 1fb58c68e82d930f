import { defineProjectConfig } from '../../vitest.shared.js';

// One spec file at a time: the stream-ingestion specs load both cores, and the Redis specs
// measure millisecond bounds (answers within 20 ms while Redis is down).
export default defineProjectConfig(import.meta.dirname, { fileParallelism: false });

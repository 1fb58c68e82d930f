import { defineProjectConfig } from '../../vitest.shared.js';

// One fault scenario at a time: each runs the whole stack under load on a 2-core machine, and
// their latency assertions must not measure each other.
export default defineProjectConfig(import.meta.dirname, { fileParallelism: false });

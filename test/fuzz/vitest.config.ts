import { defineProjectConfig } from '../../vitest.shared.js';

// One file at a time: each runs its own stack of five services flat out on a 2-core machine.
export default defineProjectConfig(import.meta.dirname, { fileParallelism: false });

import { describeFeatureStoreBehaviour } from './feature-store.behaviour.js';
import { createMemoryFeatureStore } from './memory-feature-store.js';

describeFeatureStoreBehaviour('memory store', async (catalog, clock) => ({
  store: createMemoryFeatureStore({ catalog, clock }),
  cleanup: async () => {},
}));

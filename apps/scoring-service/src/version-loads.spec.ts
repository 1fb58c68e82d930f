import { describe, expect, it } from 'vitest';
import type { ModelStore } from './model-store.js';
import type { KnownVersion } from './registry-state.js';
import type { VersionLoader } from './version-loader.js';
import { VersionLoads } from './version-loads.js';

const v1: KnownVersion = {
  model: 'm',
  version: '1',
  sha256: 'a'.repeat(64),
  sizeBytes: 1n,
  nonFiniteInputs: [],
};
const known = new Map([['m@1', v1]]);
const emptyStore = { get: () => undefined } as unknown as ModelStore;
const failingDownloads: VersionLoader = { load: async () => ({ failed: 'download' }) };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('VersionLoads', () => {
  it('retries a failed download of a version that is still needed', async () => {
    let settled = 0;
    const loads = new VersionLoads(failingDownloads, emptyStore, () => settled++);
    expect(loads.request(['m@1'], known)).toBe(false);
    await sleep(20);
    expect(settled).toBe(1);
    loads.scheduleRetry();
    await sleep(50);
    expect(settled).toBe(1); // the retry waits its delay
    await loads.stop();
  });

  it('forgets the retry of a version no longer needed, so no retry timer fires', async () => {
    let settled = 0;
    const loads = new VersionLoads(failingDownloads, emptyStore, () => {
      settled++;
      loads.request([], known);
      loads.scheduleRetry();
    });
    loads.request(['m@1'], known);
    await sleep(2_500); // past the download retry delay
    expect(settled).toBe(1);
    await loads.stop();
  });
});

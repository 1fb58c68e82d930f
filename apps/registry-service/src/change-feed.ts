import { create } from '@bufbuild/protobuf';
import { WatchResponseSchema, type WatchResponse } from '@scoregate/contracts';
import { createCommitWaiter } from './commit-waiter.js';
import type { RegistryStore } from './store/registry-store.js';

export interface ChangeFeedOptions {
  /**
   * How often an idle watcher looks at the change log for commits made by other processes (a
   * second registry on the same PostgreSQL); commits of this process wake it at once.
   */
  readonly pollIntervalMs?: number;
  /** Changes read per query. */
  readonly batchSize?: number;
}

/**
 * The Watch stream: from revision 0 (or one the log no longer covers), a snapshot ended by
 * snapshot_complete; then every change after the last revision sent, in order, each exactly once,
 * until `stop` aborts.
 */
export async function* watchChanges(
  store: RegistryStore,
  fromRevision: bigint,
  stop: AbortSignal,
  options: ChangeFeedOptions = {},
): AsyncGenerator<WatchResponse> {
  const pollMs = options.pollIntervalMs ?? 500;
  const batch = options.batchSize ?? 500;
  const commits = createCommitWaiter(store);
  try {
    let cursor = fromRevision;
    let needSnapshot = fromRevision === 0n;
    while (!stop.aborted) {
      if (needSnapshot) {
        cursor = yield* snapshotChanges(store);
        needSnapshot = false;
        continue;
      }
      const { changes, complete } = await store.changesAfter(cursor, batch);
      if (!complete) {
        needSnapshot = true;
        continue;
      }
      for (const change of changes) {
        yield change;
        cursor = change.revision;
      }
      if (changes.length === batch || commits.latest > cursor) continue;
      await commits.wait(pollMs, stop);
    }
  } finally {
    commits.close();
  }
}

/** The store's state as Watch sends it, ended by snapshot_complete; returns its revision. */
async function* snapshotChanges(store: RegistryStore): AsyncGenerator<WatchResponse, bigint> {
  const snapshot = await store.snapshot();
  const item = { revision: snapshot.revision, snapshot: true } as const;
  for (const value of snapshot.versions)
    yield create(WatchResponseSchema, { ...item, change: { case: 'versionRegistered', value } });
  for (const value of snapshot.aliases)
    yield create(WatchResponseSchema, { ...item, change: { case: 'aliasMoved', value } });
  for (const value of snapshot.scorers)
    yield create(WatchResponseSchema, { ...item, change: { case: 'scorerPut', value } });
  yield create(WatchResponseSchema, { ...item, change: { case: 'snapshotComplete', value: {} } });
  return snapshot.revision;
}

import { pause } from '@scoregate/resilience';
import type { RegistryStore } from './store/registry-store.js';

/**
 * Idle waits of a follower of the change log (a Watch stream, the event relay): a commit made
 * through this process's store ends the wait at once; commits of other processes are found when
 * the wait runs out.
 */
export interface CommitWaiter {
  /** The newest revision committed through the store since the waiter was created; -1 if none. */
  readonly latest: bigint;
  /** Waits `ms`, or less when a commit comes or `stop` aborts. */
  wait(ms: number, stop: AbortSignal): Promise<void>;
  /** Stops listening to the store's commits. */
  close(): void;
}

export function createCommitWaiter(store: RegistryStore): CommitWaiter {
  let latest = -1n;
  let committed = new AbortController();
  const unsubscribe = store.onCommit((revision) => {
    if (revision > latest) latest = revision;
    committed.abort();
  });
  return {
    get latest() {
      return latest;
    },
    async wait(ms, stop) {
      committed = new AbortController();
      const onStop = () => committed.abort();
      if (stop.aborted) return;
      stop.addEventListener('abort', onStop, { once: true });
      try {
        await pause(ms, committed.signal);
      } finally {
        stop.removeEventListener('abort', onStop);
      }
    },
    close: unsubscribe,
  };
}

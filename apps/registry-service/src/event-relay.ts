import type { RegistryEvents } from './registry-events.js';
import type { RegistryStore } from './store/registry-store.js';

export interface EventRelayOptions {
  readonly store: RegistryStore;
  readonly events: RegistryEvents;
  /** The relay's position name in the store (one per destination). */
  readonly name: string;
  readonly logger: {
    warn(object: object, message: string): void;
    info(object: object, message: string): void;
  };
  /** How often an idle relay looks for commits of other processes. */
  readonly pollMs?: number;
  /** First delay after a failed publication; doubles up to 30 s. */
  readonly retryMs?: number;
}

export interface EventRelay {
  /** Finishes the publication in hand, saves the position, and stops. */
  stop(): Promise<void>;
}

/**
 * Publishes the registry's changes from its change log, after they are committed, in revision
 * order, and saves how far it got in the store. A change committed while the broker or the relay
 * was down is published once it is back (at least once: a crash between the broker's ack and
 * the saved position repeats at most the last batch). If the log was trimmed past the saved
 * position, the relay says so and goes on from the current revision.
 */
export function startEventRelay(options: EventRelayOptions): EventRelay {
  const { store, events, name, logger } = options;
  const pollMs = options.pollMs ?? 500;
  const stopping = new AbortController();
  let wake: (() => void) | undefined;
  const unsubscribe = store.onCommit(() => wake?.());
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
      if (stopping.signal.aborted) wake();
    });

  const done = (async () => {
    let position = await store.followerPosition(name);
    let failures = 0;
    while (!stopping.signal.aborted) {
      try {
        const { changes, complete } = await store.changesAfter(position, 200);
        if (!complete) {
          const current = await store.revision();
          logger.warn(
            { relay: name, from: String(position), to: String(current) },
            `${name}: the change log no longer holds the changes after revision ${position}; events up to revision ${current} are skipped`,
          );
          position = current;
          await store.setFollowerPosition(name, position);
          continue;
        }
        for (const change of changes) {
          if (stopping.signal.aborted) break;
          await events.publish(change);
          position = change.revision;
        }
        if (changes.length > 0) await store.setFollowerPosition(name, position);
        failures = 0;
        if (changes.length < 200) await pause(pollMs);
      } catch (error) {
        failures++;
        const delay = Math.min(30_000, (options.retryMs ?? 1000) * 2 ** (failures - 1));
        logger.warn(
          { err: error, relay: name, revision: String(position + 1n), retryInMs: delay },
          `${name}: could not publish the change after revision ${position}; retrying`,
        );
        await store.setFollowerPosition(name, position).catch(() => undefined);
        await pause(delay);
      }
    }
    await store.setFollowerPosition(name, position).catch(() => undefined);
  })();

  return {
    async stop() {
      stopping.abort();
      wake?.();
      await done;
      unsubscribe();
    },
  };
}

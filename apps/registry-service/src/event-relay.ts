import { backoffDelay } from '@scoregate/resilience';
import { createCommitWaiter, type CommitWaiter } from './commit-waiter.js';
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
  const stopping = new AbortController();
  const commits = createCommitWaiter(options.store);
  const relay = new Relay(options, stopping.signal, commits);
  const done = relay.run();
  return {
    async stop() {
      stopping.abort();
      await done;
      commits.close();
    },
  };
}

/** Changes read and published per round. */
const BATCH = 200;

/** What a round did: published a full batch (more may wait), less, or skipped trimmed changes. */
type Round = 'full' | 'partial' | 'skipped';

class Relay {
  private position = 0n;

  constructor(
    private readonly options: EventRelayOptions,
    private readonly stop: AbortSignal,
    private readonly commits: CommitWaiter,
  ) {}

  async run(): Promise<void> {
    const { store, name, logger } = this.options;
    const backoff = { initialMs: this.options.retryMs ?? 1000, maxMs: 30_000 };
    this.position = await store.followerPosition(name);
    let failures = 0;
    while (!this.stop.aborted) {
      try {
        const round = await this.publishNext();
        if (round === 'skipped') continue;
        failures = 0;
        if (round === 'partial') await this.commits.wait(this.options.pollMs ?? 500, this.stop);
      } catch (error) {
        failures++;
        const delay = backoffDelay(backoff, failures);
        logger.warn(
          { err: error, relay: name, revision: String(this.position + 1n), retryInMs: delay },
          `${name}: could not publish the change after revision ${this.position}; retrying`,
        );
        await this.savePosition();
        await this.commits.wait(delay, this.stop);
      }
    }
    await this.savePosition();
  }

  /** Publishes the changes after the position, up to a batch, and saves the new position. */
  private async publishNext(): Promise<Round> {
    const { store, events, name, logger } = this.options;
    const { changes, complete } = await store.changesAfter(this.position, BATCH);
    if (!complete) {
      const current = await store.revision();
      logger.warn(
        { relay: name, from: String(this.position), to: String(current) },
        `${name}: the change log no longer holds the changes after revision ${this.position}; events up to revision ${current} are skipped`,
      );
      this.position = current;
      await store.setFollowerPosition(name, this.position);
      return 'skipped';
    }
    for (const change of changes) {
      if (this.stop.aborted) break;
      await events.publish(change);
      this.position = change.revision;
    }
    if (changes.length > 0) await store.setFollowerPosition(name, this.position);
    return changes.length < BATCH ? 'partial' : 'full';
  }

  /** Saves the position when it can; a failure here is retried by the next save. */
  private async savePosition(): Promise<void> {
    await this.options.store
      .setFollowerPosition(this.options.name, this.position)
      .catch(() => undefined);
  }
}

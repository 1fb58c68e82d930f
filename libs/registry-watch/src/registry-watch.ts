import type { RegistryService, WatchResponse } from '@scoregate/contracts';
import { backoffDelay, pause, type BackoffOptions } from '@scoregate/resilience';
import { RpcError, type RpcClient, type RpcLogger } from '@scoregate/rpc';

/** One change of the registry (or one item of a snapshot), as the Watch stream carries it. */
export type RegistryChange = WatchResponse['change'];

export interface RegistryWatchOptions {
  /** The registry to follow; the watch never closes it. */
  readonly client: RpcClient<typeof RegistryService>;
  readonly logger: RpcLogger;
  /**
   * Delays between attempts after the stream ended or failed, always jittered: followers that
   * lost the same registry do not all come back at the same instant.
   */
  readonly backoff: Pick<BackoffOptions, 'initialMs' | 'maxMs'>;
  /**
   * What keeps serving while the registry is away, as the interruption log line names it:
   * "registry watch interrupted (…); <keepsServing> keep serving; resuming from revision N".
   */
  readonly keepsServing: string;
  /**
   * A complete snapshot: the items that make up the registry at `revision`, in the order sent.
   * It replaces whatever was applied before: what it lacks is gone.
   */
  onSnapshot(changes: readonly RegistryChange[], revision: bigint): void;
  /** A live change on top of the last snapshot: each revision once, in order. */
  onChange(change: RegistryChange, revision: bigint): void;
  /** Called each time the watch is about to be started again after its stream ended or failed. */
  onRestart?(): void;
}

export interface RegistryWatch {
  /** Starts following the registry; does nothing when already started or stopped. */
  start(): void;
  /** The last registry revision applied (0n before the first snapshot). */
  revision(): bigint;
  /** True once a first snapshot has been applied. */
  ready(): boolean;
  /** Resolves when ready() becomes true. */
  whenReady(): Promise<void>;
  /** Stops following and waits until the watch has let go. Does not close the client. */
  stop(): Promise<void>;
}

/**
 * Follows registry-service's Watch stream: from revision 0 it receives a snapshot of the whole
 * registry, then live changes. When the stream ends or fails, whatever the caller built keeps
 * serving, and the watch resumes from the last revision it applied, with jittered exponential
 * backoff; a registry that no longer holds that revision answers with a fresh snapshot.
 */
export function createRegistryWatch(options: RegistryWatchOptions): RegistryWatch {
  const stopping = new AbortController();
  const progress = new WatchProgress(options);
  const backoff: BackoffOptions = { ...options.backoff, jitter: true };
  let running: Promise<void> | undefined;

  async function follow(): Promise<void> {
    let attempt = 0;
    while (!stopping.signal.aborted) {
      try {
        progress.beginStream();
        for await (const message of options.client.watch(
          { fromRevision: progress.revision },
          { signal: stopping.signal },
        )) {
          attempt = 0;
          progress.receive(message);
        }
      } catch (error) {
        if (stopping.signal.aborted) break;
        logInterruption(options, error, progress.revision, attempt);
      }
      if (stopping.signal.aborted) break;
      options.onRestart?.();
      attempt++;
      await pause(backoffDelay(backoff, attempt), stopping.signal);
    }
  }

  return {
    start() {
      if (!running && !stopping.signal.aborted) running = follow();
    },
    revision: () => progress.revision,
    ready: () => progress.isReady,
    whenReady: () => progress.whenReady,
    async stop() {
      stopping.abort();
      await running?.catch(() => undefined);
    },
  };
}

/** What one watch has applied: the revision, the snapshot being received, readiness. */
class WatchProgress {
  revision = 0n;
  isReady = false;
  readonly whenReady: Promise<void>;
  private markReady!: () => void;
  /** Items of the snapshot being received; applied together once it is complete. */
  private snapshot: RegistryChange[] = [];

  constructor(private readonly handlers: Pick<RegistryWatchOptions, 'onSnapshot' | 'onChange'>) {
    this.whenReady = new Promise<void>((resolve) => (this.markReady = resolve));
  }

  /** A new stream starts: a snapshot left incomplete by the last one is dropped. */
  beginStream(): void {
    this.snapshot = [];
  }

  receive(message: WatchResponse): void {
    if (message.snapshot) {
      if (message.change.case !== 'snapshotComplete') {
        this.snapshot.push(message.change);
        return;
      }
      const items = this.snapshot;
      this.snapshot = [];
      this.revision = message.revision;
      this.handlers.onSnapshot(items, message.revision);
      if (!this.isReady) {
        this.isReady = true;
        this.markReady();
      }
      return;
    }
    // A live change is only meaningful on top of a complete state (a resumed stream has one).
    if (message.revision <= this.revision) return; // already applied: never twice
    this.revision = message.revision;
    this.handlers.onChange(message.change, message.revision);
  }
}

/** The first failure in a row is a warning; the retries that follow are only information. */
function logInterruption(
  options: Pick<RegistryWatchOptions, 'logger' | 'keepsServing'>,
  error: unknown,
  revision: bigint,
  attempt: number,
): void {
  const rpc = RpcError.from(error);
  const line = `registry watch interrupted (${rpc.message}); ${options.keepsServing} keep serving; resuming from revision ${revision}`;
  const fields = { code: rpc.code, revision: String(revision), attempt };
  if (attempt === 0) options.logger.warn(fields, line);
  else options.logger.info(fields, line);
}

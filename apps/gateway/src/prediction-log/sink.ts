import type { PredictionLogged } from '@scoregate/contracts';

/** An event encoded for its sink: protobuf binary for Kafka, one JSON line for the file. */
export interface EncodedEvent {
  readonly key: string;
  readonly payload: Uint8Array | string;
  readonly headers: Record<string, string>;
}

/** Where the flusher sends batches of events. */
export interface PredictionLogSink {
  /** Names the sink in log lines. */
  readonly describe: string;
  /** The event as this sink writes it. */
  encode(event: PredictionLogged): Uint8Array | string;
  /** Resolves once the whole batch is written; rejects when any of it may not be. */
  send(batch: readonly EncodedEvent[]): Promise<void>;
  close(): Promise<void>;
}

/** A connection (producer, file handle) used by `use`, opened when first needed. */
export interface Reopening<H> {
  /** Runs `work` on the connection; after a failure the connection is closed and the next call opens a fresh one. */
  use(work: (handle: H) => Promise<void>): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens the connection on first use and again after a failed use (new connections, and for a
 * Kafka producer a new idempotence epoch). The failure is reported by the caller, not here.
 */
export function reopening<H>(
  open: () => Promise<H>,
  closeHandle: (handle: H) => Promise<void>,
): Reopening<H> {
  let handle: Promise<H> | undefined;
  return {
    async use(work) {
      const current = (handle ??= open());
      try {
        await work(await current);
      } catch (error) {
        if (handle === current) handle = undefined;
        current.then(closeHandle).catch(() => undefined);
        throw error;
      }
    },
    async close() {
      const current = handle;
      handle = undefined;
      if (current !== undefined) await closeHandle(await current);
    },
  };
}

/** Closes the sink, waiting for it at most `ms`; a failing close is ignored. */
export async function closeWithin(sink: PredictionLogSink, ms: number): Promise<void> {
  await Promise.race([sink.close().catch(() => undefined), delay(ms)]);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

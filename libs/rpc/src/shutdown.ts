import type { RpcLogger } from './logger.js';
import type { RpcServer, ShutdownOptions } from './server.js';

export interface DrainOnSignalsOptions {
  readonly logger: RpcLogger;
  /** Stops the process's work in order (drain calls, commit, close clients, flush telemetry). */
  readonly drain: (signal: NodeJS.Signals) => Promise<void>;
}

/**
 * On the first SIGTERM or SIGINT: run `drain` and exit 0 when it resolves, 1 when it fails.
 *
 * Each signal counts once per drain. The other one arriving while the drain runs joins it and is
 * ignored: Ctrl-C in a terminal sends SIGINT to every process of the group while a launcher such
 * as `scoregate stack` sends each service SIGTERM, and both mean "stop". The same signal a second
 * time (Ctrl-C pressed again, a supervisor's repeated SIGTERM) exits at once with 1.
 */
export function drainOnSignals(options: DrainOnSignalsOptions): void {
  const received = new Set<NodeJS.Signals>();
  const onSignal = (signal: NodeJS.Signals) => {
    if (received.has(signal)) {
      options.logger.warn(`received ${signal} again: exiting now`);
      process.exit(1);
    }
    received.add(signal);
    if (received.size > 1) {
      options.logger.info({ signal }, `received ${signal} while stopping: the drain goes on`);
      return;
    }
    options.logger.info({ signal }, `received ${signal}`);
    options.drain(signal).then(
      () => process.exit(0),
      (error: unknown) => {
        options.logger.error({ err: error }, `shutdown failed: ${(error as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

export interface ShutdownHandlerOptions extends ShutdownOptions {
  readonly logger: RpcLogger;
  /** Run after the server drained, e.g. close clients and flush telemetry. */
  readonly onStopped?: () => Promise<void> | void;
}

/** {@link drainOnSignals} for a server: drain it gracefully, then run `onStopped`. */
export function exitOnSignals(server: RpcServer, options: ShutdownHandlerOptions): void {
  drainOnSignals({
    logger: options.logger,
    drain: async () => {
      await server.shutdown(options);
      await options.onStopped?.();
    },
  });
}

import type { RpcLogger } from './logger.js';
import type { RpcServer, ShutdownOptions } from './server.js';

export interface ShutdownHandlerOptions extends ShutdownOptions {
  readonly logger: RpcLogger;
  /** Run after the server drained, e.g. close clients and flush telemetry. */
  readonly onStopped?: () => Promise<void> | void;
}

/**
 * On SIGTERM or SIGINT: drain the server gracefully, run `onStopped`, and exit 0. A second signal
 * exits at once with 1.
 */
export function exitOnSignals(server: RpcServer, options: ShutdownHandlerOptions): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      options.logger.warn(`received ${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    options.logger.info({ signal }, `received ${signal}`);
    server
      .shutdown(options)
      .then(() => options.onStopped?.())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          options.logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

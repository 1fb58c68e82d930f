/**
 * The link between the SDK started by `register` and application code, which must not import
 * the SDK: the running instance is kept on a global symbol, so that it is found even when the
 * entry hook and the application load this package from different paths.
 */

export const TELEMETRY_HANDLE_KEY = Symbol.for('scoregate.telemetry');

export interface TelemetryHandle {
  /** Exports every finished span still buffered. */
  forceFlush(): Promise<void>;
  /** Flushes, then stops the SDK. Safe to call more than once. */
  shutdown(): Promise<void>;
}

type TelemetryGlobal = typeof globalThis & { [TELEMETRY_HANDLE_KEY]?: TelemetryHandle };

export function getTelemetryHandle(): TelemetryHandle | undefined {
  return (globalThis as TelemetryGlobal)[TELEMETRY_HANDLE_KEY];
}

export function setTelemetryHandle(handle: TelemetryHandle | undefined): void {
  (globalThis as TelemetryGlobal)[TELEMETRY_HANDLE_KEY] = handle;
}

/** Flushes and shuts the SDK down if `register` started one; no-op otherwise. */
export async function shutdownTelemetry(): Promise<void> {
  await getTelemetryHandle()?.shutdown();
}

/** Exports buffered spans now, without stopping the SDK; no-op when no SDK runs. */
export async function flushTelemetry(): Promise<void> {
  await getTelemetryHandle()?.forceFlush();
}

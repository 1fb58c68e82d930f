import type { LoadFailure } from './model-store.js';

/** A version that cannot serve, with the stage that failed (shown by ModelReady/NOT_FOUND). */
export class LoadError extends Error {
  constructor(
    readonly stage: LoadFailure['stage'],
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

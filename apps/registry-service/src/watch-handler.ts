import type { WatchRequest } from '@scoregate/contracts';
import { Code, RpcError, type CallContext } from '@scoregate/rpc';
import { watchChanges } from './change-feed.js';
import type { RegistryStore } from './store/registry-store.js';

/**
 * Watch: the change feed from the requested revision. When the server starts draining, an open
 * Watch ends with UNAVAILABLE so the client resumes elsewhere instead of holding the graceful
 * shutdown until its grace period ends.
 */
export async function* watch(
  store: RegistryStore,
  request: WatchRequest,
  context: CallContext,
  pollIntervalMs: number | undefined,
) {
  if (request.fromRevision < 0n) {
    throw RpcError.invalidArgument(
      'from_revision',
      `must be 0 or positive (got ${request.fromRevision})`,
    );
  }
  const stop = AbortSignal.any([context.signal, context.draining]);
  let last = request.fromRevision;
  for await (const change of watchChanges(store, request.fromRevision, stop, {
    ...(pollIntervalMs === undefined ? {} : { pollIntervalMs }),
  })) {
    yield change;
    last = change.revision;
  }
  if (!context.signal.aborted) {
    throw new RpcError(
      Code.UNAVAILABLE,
      `registry-service is shutting down: watch again from revision ${last}`,
    );
  }
}

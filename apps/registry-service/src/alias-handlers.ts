import type {
  DeleteAliasRequest,
  ListAliasHistoryRequest,
  SetAliasRequest,
} from '@scoregate/contracts';
import { modelOrNotFound } from './version-selector.js';
import { pageRequest, requireName, requireReason, requireVersion } from './request-checks.js';
import type { RegistryStore } from './store/registry-store.js';

/** SetAlias: moves an alias (compare-and-set when expected_version is given). */
export async function setAlias(store: RegistryStore, request: SetAliasRequest) {
  requireName('model', request.model);
  requireName('alias', request.alias);
  requireVersion('version', request.version);
  requireReason('reason', request.reason);
  // '' = the alias must not exist yet.
  if (request.expectedVersion !== undefined && request.expectedVersion !== '')
    requireVersion('expected_version', request.expectedVersion);
  const { moved, revision } = await store.setAlias({
    ...aliasChange(request),
    version: request.version,
    movedBy: request.movedBy || 'anonymous',
  });
  return { moved, revision };
}

/** DeleteAlias: removes an alias no scorer uses (compare-and-set when expected_version is given). */
export async function deleteAlias(store: RegistryStore, request: DeleteAliasRequest) {
  requireName('model', request.model);
  requireName('alias', request.alias);
  requireReason('reason', request.reason);
  if (request.expectedVersion !== undefined)
    requireVersion('expected_version', request.expectedVersion);
  const { deleted, revision } = await store.deleteAlias({
    ...aliasChange(request),
    deletedBy: request.deletedBy || 'anonymous',
  });
  return { deleted, revision };
}

export async function listAliasHistory(store: RegistryStore, request: ListAliasHistoryRequest) {
  await modelOrNotFound(store, 'model', request.model);
  if (request.alias !== '') requireName('alias', request.alias);
  const page = pageRequest(request.pageSize, request.pageToken, 'revision');
  const { items, next } = await store.aliasHistory(request.model, request.alias, page);
  return { moves: items, nextPageToken: next ?? '' };
}

/** The alias a request changes, why, and the version it must point at now, if given. */
function aliasChange(request: {
  model: string;
  alias: string;
  reason: string;
  expectedVersion?: string | undefined;
}) {
  return {
    model: request.model,
    alias: request.alias,
    reason: request.reason,
    ...(request.expectedVersion === undefined ? {} : { expectedVersion: request.expectedVersion }),
  };
}

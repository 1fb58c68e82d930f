import { RpcError } from '@scoregate/rpc';
import { isName, isVersionNumber, nameRule, versionRule } from './names.js';
import type { PageRequest } from './store/registry-store.js';

const MAX_REASON_BYTES = 1024;

/** INVALID_ARGUMENT unless `value` is a Scoregate name. */
export function requireName(field: string, value: string): void {
  if (value === '') throw RpcError.invalidArgument(field, 'is required');
  if (!isName(value)) throw RpcError.invalidArgument(field, nameRule(value));
}

/** INVALID_ARGUMENT unless `value` is a version number. */
export function requireVersion(field: string, value: string): void {
  if (value === '') throw RpcError.invalidArgument(field, 'is required');
  if (!isVersionNumber(value)) throw RpcError.invalidArgument(field, versionRule(value));
}

/** INVALID_ARGUMENT unless `value` says why, in at most 1 KiB. */
export function requireReason(field: string, value: string): void {
  if (value.trim() === '')
    throw RpcError.invalidArgument(field, 'is required: say why, for the alias history');
  if (Buffer.byteLength(value) > MAX_REASON_BYTES)
    throw RpcError.invalidArgument(field, `must be at most ${MAX_REASON_BYTES} bytes`);
}

/** page_size 0 = 100, at most 1000; page_token is the last key of the previous page. */
export function pageRequest(
  pageSize: number,
  pageToken: string,
  key: 'name' | 'version' | 'revision',
): PageRequest {
  if (pageSize < 0 || pageSize > 1000)
    throw RpcError.invalidArgument('page_size', `must be between 0 and 1000 (got ${pageSize})`);
  const limit = pageSize === 0 ? 100 : pageSize;
  if (pageToken === '') return { limit };
  const valid = key === 'name' ? isName(pageToken) : isVersionNumber(pageToken);
  if (!valid)
    throw RpcError.invalidArgument('page_token', 'is not a next_page_token this registry issued');
  return { limit, after: pageToken };
}

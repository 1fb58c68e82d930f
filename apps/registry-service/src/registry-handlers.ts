import { createHash } from 'node:crypto';
import type { ModelVersion, RegistryService } from '@scoregate/contracts';
import { Code, RpcError, type ServiceHandlers } from '@scoregate/rpc';
import type { ArtifactStore } from './artifact-store.js';
import { watchChanges } from './change-feed.js';
import { isName, isVersionNumber, nameRule, versionRule } from './names.js';
import { checkScorerFields } from './scorer-rules.js';
import type { PageRequest, RegistryStore } from './store/registry-store.js';
import type { VersionIntake } from './version-intake.js';

/** Largest artifact chunk sent by DownloadModelVersion (the proto's limit). */
export const DOWNLOAD_CHUNK_BYTES = 1024 * 1024;
const MAX_REASON_BYTES = 1024;

type Selector =
  { case: 'version' | 'alias'; value: string } | { case: undefined; value?: undefined };

export interface RegistryHandlersOptions {
  readonly store: RegistryStore;
  readonly artifacts: ArtifactStore;
  readonly intake: VersionIntake;
  /** How often idle watchers look for commits of other processes. */
  readonly watchPollMs?: number;
}

/** The RegistryService handlers over a {@link RegistryStore}. */
export function createRegistryHandlers(
  options: RegistryHandlersOptions,
): ServiceHandlers<typeof RegistryService> {
  const { store, artifacts, intake } = options;

  async function modelOrNotFound(field: string, name: string) {
    requireName(field, name);
    const model = await store.getModel(name);
    if (model === undefined) throw RpcError.notFound(`model "${name}" not found`);
    return model;
  }

  async function resolveVersion(modelName: string, selector: Selector): Promise<ModelVersion> {
    const model = await modelOrNotFound('model', modelName);
    let version: string;
    switch (selector.case) {
      case 'version':
        requireVersion('version', selector.value);
        version = selector.value;
        break;
      case 'alias': {
        requireName('alias', selector.value);
        const target = model.aliases[selector.value];
        if (target === undefined)
          throw RpcError.notFound(`model "${modelName}" has no alias "${selector.value}"`);
        version = target;
        break;
      }
      default:
        throw RpcError.invalidArgument('selector', 'set either version or alias');
    }
    const found = await store.getVersion(modelName, version);
    if (found === undefined)
      throw RpcError.notFound(`model "${modelName}" has no version "${version}"`);
    return found;
  }

  return {
    async uploadModelVersion(requests, context) {
      return intake.upload(requests, context.signal);
    },

    async setAlias(request) {
      requireName('model', request.model);
      requireName('alias', request.alias);
      requireVersion('version', request.version);
      requireReason('reason', request.reason);
      if (request.expectedVersion !== undefined && request.expectedVersion !== '')
        requireVersion('expected_version', request.expectedVersion);
      const { moved, revision } = await store.setAlias({
        model: request.model,
        alias: request.alias,
        version: request.version,
        reason: request.reason,
        movedBy: request.movedBy || 'anonymous',
        ...(request.expectedVersion === undefined
          ? {}
          : { expectedVersion: request.expectedVersion }),
      });
      return { moved, revision };
    },

    async deleteAlias(request) {
      requireName('model', request.model);
      requireName('alias', request.alias);
      requireReason('reason', request.reason);
      if (request.expectedVersion !== undefined)
        requireVersion('expected_version', request.expectedVersion);
      const { deleted, revision } = await store.deleteAlias({
        model: request.model,
        alias: request.alias,
        reason: request.reason,
        deletedBy: request.deletedBy || 'anonymous',
        ...(request.expectedVersion === undefined
          ? {}
          : { expectedVersion: request.expectedVersion }),
      });
      return { deleted, revision };
    },

    async listAliasHistory(request) {
      await modelOrNotFound('model', request.model);
      if (request.alias !== '') requireName('alias', request.alias);
      const page = pageRequest(request.pageSize, request.pageToken, 'revision');
      const { items, next } = await store.aliasHistory(request.model, request.alias, page);
      return { moves: items, nextPageToken: next ?? '' };
    },

    async putScorer(request) {
      if (request.scorer === undefined) throw RpcError.invalidArgument('scorer', 'is required');
      checkScorerFields(request.scorer);
      return store.putScorer(request.scorer);
    },

    async deleteScorer(request) {
      requireName('name', request.name);
      return { revision: await store.deleteScorer(request.name) };
    },

    async getModel(request) {
      return { model: await modelOrNotFound('name', request.name) };
    },

    async listModels(request) {
      const { items, next } = await store.listModels(
        pageRequest(request.pageSize, request.pageToken, 'name'),
      );
      return { models: items, nextPageToken: next ?? '' };
    },

    async getModelVersion(request) {
      return { version: await resolveVersion(request.model, request.selector) };
    },

    async listModelVersions(request) {
      requireName('model', request.model);
      const page = pageRequest(request.pageSize, request.pageToken, 'version');
      const versions = await store.listVersions(request.model, page);
      if (versions === undefined) throw RpcError.notFound(`model "${request.model}" not found`);
      return { versions: versions.items, nextPageToken: versions.next ?? '' };
    },

    async getScorer(request) {
      requireName('name', request.name);
      const scorer = await store.getScorer(request.name);
      if (scorer === undefined) throw RpcError.notFound(`scorer "${request.name}" not found`);
      return { scorer };
    },

    async listScorers(request) {
      const { items, next } = await store.listScorers(
        pageRequest(request.pageSize, request.pageToken, 'name'),
      );
      return { scorers: items, nextPageToken: next ?? '' };
    },

    async *watch(request, context) {
      if (request.fromRevision < 0n) {
        throw RpcError.invalidArgument(
          'from_revision',
          `must be 0 or positive (got ${request.fromRevision})`,
        );
      }
      // When the server starts draining, an open Watch ends with UNAVAILABLE so the client
      // resumes elsewhere instead of holding the graceful shutdown until its grace period ends.
      const stop = AbortSignal.any([context.signal, context.draining]);
      let last = request.fromRevision;
      for await (const change of watchChanges(store, request.fromRevision, stop, {
        ...(options.watchPollMs === undefined ? {} : { pollIntervalMs: options.watchPollMs }),
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
    },

    async *downloadModelVersion(request, context) {
      const version = await resolveVersion(request.model, request.selector);
      yield { content: { case: 'version', value: version } } as const;
      // Count and hash the bytes again, so a file changed on disk since it was registered is
      // reported instead of silently sent.
      const hash = createHash('sha256');
      let received = 0n;
      for await (const chunk of artifacts.read(version.sha256, DOWNLOAD_CHUNK_BYTES)) {
        if (context.signal.aborted) return;
        received += BigInt(chunk.length);
        hash.update(chunk);
        yield { content: { case: 'chunk', value: chunk } } as const;
      }
      const sha256 = hash.digest('hex');
      if (received !== version.sizeBytes || sha256 !== version.sha256) {
        throw new RpcError(
          Code.DATA_LOSS,
          `the artifact of ${version.model} version ${version.version} changed since it was registered: ` +
            `read ${received} bytes with sha256 ${sha256}, expected ${version.sizeBytes} bytes with sha256 ${version.sha256}`,
        );
      }
    },
  };
}

function requireName(field: string, value: string): void {
  if (value === '') throw RpcError.invalidArgument(field, 'is required');
  if (!isName(value)) throw RpcError.invalidArgument(field, nameRule(value));
}

function requireVersion(field: string, value: string): void {
  if (value === '') throw RpcError.invalidArgument(field, 'is required');
  if (!isVersionNumber(value)) throw RpcError.invalidArgument(field, versionRule(value));
}

function requireReason(field: string, value: string): void {
  if (value.trim() === '')
    throw RpcError.invalidArgument(field, 'is required: say why, for the alias history');
  if (Buffer.byteLength(value) > MAX_REASON_BYTES)
    throw RpcError.invalidArgument(field, `must be at most ${MAX_REASON_BYTES} bytes`);
}

/** page_size 0 = 100, at most 1000; page_token is the last key of the previous page. */
function pageRequest(
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

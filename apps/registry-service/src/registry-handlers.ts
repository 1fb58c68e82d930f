import { createHash } from 'node:crypto';
import type { RegistryService, ModelVersion } from '@scoregate/contracts';
import { Code, RpcError, type CallContext, type ServiceHandlers } from '@scoregate/rpc';
import { isName, isVersionNumber, nameRule, versionRule } from './names.js';
import type { RegistryReader } from './registry-reader.js';

/** Largest artifact chunk sent by DownloadModelVersion (the proto's limit). */
export const DOWNLOAD_CHUNK_BYTES = 1024 * 1024;

type Selector =
  { case: 'version' | 'alias'; value: string } | { case: undefined; value?: undefined };

/**
 * The RegistryService handlers over a read-only registry. Mutating RPCs answer UNIMPLEMENTED.
 *
 * Paging: every list fits on one page (the catalogue is small), so page_size only has its range
 * checked and no next_page_token is issued; a page_token is therefore refused.
 */
export function createRegistryHandlers(
  reader: RegistryReader,
): ServiceHandlers<typeof RegistryService> {
  const readOnly = (method: string) =>
    RpcError.unimplemented(
      `${method} is not available yet: this registry serves a read-only catalogue loaded at start from ${reader.source}`,
    );

  async function modelOrNotFound(field: string, name: string) {
    requireName(field, name);
    const model = await reader.getModel(name);
    if (model === undefined) throw RpcError.notFound(`model "${name}" not found`);
    return model;
  }

  async function resolveVersion(modelName: string, selector: Selector): Promise<ModelVersion> {
    const model = await modelOrNotFound('model', modelName);
    let version: string;
    switch (selector.case) {
      case 'version':
        if (!isVersionNumber(selector.value))
          throw RpcError.invalidArgument('version', versionRule(selector.value));
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
    const found = await reader.getVersion(modelName, version);
    if (found === undefined)
      throw RpcError.notFound(`model "${modelName}" has no version "${version}"`);
    return found;
  }

  return {
    uploadModelVersion: async () => {
      throw readOnly('UploadModelVersion');
    },
    setAlias: () => {
      throw readOnly('SetAlias');
    },
    deleteAlias: () => {
      throw readOnly('DeleteAlias');
    },
    putScorer: () => {
      throw readOnly('PutScorer');
    },
    deleteScorer: () => {
      throw readOnly('DeleteScorer');
    },

    async getModel(request) {
      return { model: await modelOrNotFound('name', request.name) };
    },

    async listModels(request) {
      checkPaging(request.pageSize, request.pageToken);
      return { models: [...(await reader.listModels())] };
    },

    async getModelVersion(request) {
      return { version: await resolveVersion(request.model, request.selector) };
    },

    async listModelVersions(request) {
      requireName('model', request.model);
      checkPaging(request.pageSize, request.pageToken);
      const versions = await reader.listVersions(request.model);
      if (versions === undefined) throw RpcError.notFound(`model "${request.model}" not found`);
      return { versions: [...versions] };
    },

    async listAliasHistory(request) {
      await modelOrNotFound('model', request.model);
      if (request.alias !== '') requireName('alias', request.alias);
      checkPaging(request.pageSize, request.pageToken);
      // The catalogue's aliases were set by its file, not moved: there is no history yet.
      return { moves: [] };
    },

    async getScorer(request) {
      requireName('name', request.name);
      const scorer = await reader.getScorer(request.name);
      if (scorer === undefined) throw RpcError.notFound(`scorer "${request.name}" not found`);
      return { scorer };
    },

    async listScorers(request) {
      checkPaging(request.pageSize, request.pageToken);
      return { scorers: [...(await reader.listScorers())] };
    },

    async *watch(request, context) {
      if (request.fromRevision < 0n) {
        throw RpcError.invalidArgument(
          'from_revision',
          `must be 0 or positive (got ${request.fromRevision})`,
        );
      }
      // No change log is kept, so every revision a client may hold is older than the oldest change
      // held: per the contract, it gets a snapshot, whatever from_revision it sends.
      const { revision, versions, aliases, scorers } = await reader.snapshot();
      const item = { revision, snapshot: true } as const;
      for (const value of versions)
        yield { ...item, change: { case: 'versionRegistered', value } } as const;
      for (const value of aliases)
        yield { ...item, change: { case: 'aliasMoved', value } } as const;
      for (const value of scorers) yield { ...item, change: { case: 'scorerPut', value } } as const;
      yield { ...item, change: { case: 'snapshotComplete', value: {} } } as const;

      // When the server starts draining, an open Watch ends with UNAVAILABLE so the client
      // resumes elsewhere instead of holding the graceful shutdown until its grace period ends.
      await untilCancelledOrDraining(context);
      if (!context.signal.aborted) {
        throw new RpcError(
          Code.UNAVAILABLE,
          `registry-service is shutting down: watch again from revision ${revision}`,
        );
      }
    },

    async *downloadModelVersion(request, context) {
      const version = await resolveVersion(request.model, request.selector);
      yield { content: { case: 'version', value: version } } as const;
      // The bytes were checked at load; count and hash them again so a file changed since then is
      // reported instead of silently sent.
      const hash = createHash('sha256');
      let received = 0n;
      for await (const chunk of reader.readArtifact(
        version.model,
        version.version,
        DOWNLOAD_CHUNK_BYTES,
      )) {
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

function checkPaging(pageSize: number, pageToken: string): void {
  if (pageSize < 0 || pageSize > 1000)
    throw RpcError.invalidArgument('page_size', `must be between 0 and 1000 (got ${pageSize})`);
  if (pageToken !== '') {
    throw RpcError.invalidArgument(
      'page_token',
      'this registry returns everything on one page and issues no page tokens',
    );
  }
}

function untilCancelledOrDraining(context: CallContext): Promise<void> {
  const stop = AbortSignal.any([context.signal, context.draining]);
  if (stop.aborted) return Promise.resolve();
  return new Promise((resolve) => stop.addEventListener('abort', () => resolve(), { once: true }));
}

import type { RegistryService } from '@scoregate/contracts';
import { RpcError, type ServiceHandlers } from '@scoregate/rpc';
import { deleteAlias, listAliasHistory, setAlias } from './alias-handlers.js';
import type { ArtifactStore } from './artifact-store.js';
import { downloadModelVersion } from './artifact-download.js';
import { pageRequest, requireName } from './request-checks.js';
import type { RegistryStore } from './store/registry-store.js';
import type { VersionIntake } from './version-intake.js';
import { modelOrNotFound, resolveVersion } from './version-selector.js';
import { watch } from './watch-handler.js';

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
  return {
    uploadModelVersion: (requests, context) => intake.upload(requests, context.signal),
    setAlias: (request) => setAlias(store, request),
    deleteAlias: (request) => deleteAlias(store, request),
    listAliasHistory: (request) => listAliasHistory(store, request),
    async putScorer(request) {
      if (request.scorer === undefined) throw RpcError.invalidArgument('scorer', 'is required');
      return store.putScorer(request.scorer);
    },
    async deleteScorer(request) {
      requireName('name', request.name);
      return { revision: await store.deleteScorer(request.name) };
    },
    getModel: async (request) => ({ model: await modelOrNotFound(store, 'name', request.name) }),
    async listModels(request) {
      const page = pageRequest(request.pageSize, request.pageToken, 'name');
      const { items, next } = await store.listModels(page);
      return { models: items, nextPageToken: next ?? '' };
    },
    getModelVersion: async (request) => ({
      version: await resolveVersion(store, request.model, request.selector),
    }),
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
      const page = pageRequest(request.pageSize, request.pageToken, 'name');
      const { items, next } = await store.listScorers(page);
      return { scorers: items, nextPageToken: next ?? '' };
    },
    watch: (request, context) => watch(store, request, context, options.watchPollMs),
    downloadModelVersion: (request, context) =>
      downloadModelVersion(store, artifacts, request, context),
  };
}

import '@scoregate/config/supported-node';
import { loadConfigOrExit } from '@scoregate/config';
import { GRPCInferenceService } from '@scoregate/contracts';
import { implement, mutualTlsOrExit, serve } from '@scoregate/rpc';
import { createLogger, shutdownTelemetry } from '@scoregate/telemetry';
import { createArtifactCache } from './artifact-cache.js';
import { scoringServiceConfig } from './config.js';
import { createInferenceHandlers } from './inference-handlers.js';
import { loadLocalModels } from './local-models.js';
import { createModelStore } from './model-store.js';
import { createRegistryFollower, type RegistryFollower } from './registry-follower.js';

const config = loadConfigOrExit('scoring-service', scoringServiceConfig);
// mTLS between services (SCOREGATE_TLS_*): callers must present a certificate of the CA, and the
// registry follower presents this service's certificate.
const tls = mutualTlsOrExit('scoring-service', config);
const logger = createLogger({ service: 'scoring-service', level: config.LOG_LEVEL });
logger.info({ mtls: Boolean(tls) }, `mTLS between services ${tls ? 'ON' : 'off'}`);
const store = createModelStore();
const batching = { enabled: config.SCORING_BATCHING, maxBatchRows: config.SCORING_MAX_BATCH_ROWS };

let follower: RegistryFollower | undefined;
let isReady: () => boolean;
if (config.SCORING_REGISTRY_ADDRESS === undefined) {
  await loadLocalModels(config.SCORING_MODELS_DIR, store, {
    intraOpThreads: config.SCORING_INTRA_OP_THREADS,
    batching,
  });
  logger.info(
    { dir: config.SCORING_MODELS_DIR, models: store.list().map((m) => `${m.name}@${m.version}`) },
    'models loaded from local directory (set SCORING_REGISTRY_ADDRESS to follow registry-service)',
  );
  isReady = () => store.list().length > 0;
} else {
  follower = createRegistryFollower({
    address: config.SCORING_REGISTRY_ADDRESS,
    store,
    logger,
    cache: createArtifactCache(config.SCORING_CACHE_DIR),
    intraOpThreads: config.SCORING_INTRA_OP_THREADS,
    batching,
    retireAfterMs: config.SCORING_RETIRE_AFTER_MS,
    maxArtifactBytes: config.SCORING_MAX_ARTIFACT_BYTES,
    ...(tls ? { tls: tls.client } : {}),
  });
  logger.info(
    { registry: config.SCORING_REGISTRY_ADDRESS, cache: config.SCORING_CACHE_DIR },
    'following registry-service',
  );
  isReady = () => follower?.ready() ?? false;
}

const { server } = await serve({
  name: 'scoring-service',
  logger,
  address: `${config.SCORING_SERVICE_HOST}:${config.SCORING_SERVICE_PORT}`,
  maxReceiveMessageBytes: config.SCORING_MAX_REQUEST_BYTES,
  // A request the limit admits must get its answer: the outputs of a batch can be as large.
  maxSendMessageBytes: config.SCORING_MAX_REQUEST_BYTES,
  ...(tls ? { tls: tls.server } : {}),
  services: [implement(GRPCInferenceService, createInferenceHandlers(store, { isReady }))],
  onStopped: async () => {
    await follower?.stop();
    await store.releaseAll();
    await shutdownTelemetry();
  },
});
if (follower) {
  // Health turns SERVING (for balancers and the stack launcher) once the snapshot's models serve;
  // ServerLive answers meanwhile.
  server.setServing(false);
  server.setServing(false, GRPCInferenceService.typeName);
  void follower.whenReady().then(() => {
    server.setServing(true);
    server.setServing(true, GRPCInferenceService.typeName);
  });
}

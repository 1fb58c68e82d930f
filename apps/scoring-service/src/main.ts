import { loadConfigOrExit } from '@scoregate/config';
import { GRPCInferenceService } from '@scoregate/contracts';
import { implement, serve } from '@scoregate/rpc';
import { createLogger, shutdownTelemetry } from '@scoregate/telemetry';
import { scoringServiceConfig } from './config.js';
import { createInferenceHandlers } from './inference-handlers.js';
import { loadModelRepository } from './model-repository.js';

const config = loadConfigOrExit('scoring-service', scoringServiceConfig);
const logger = createLogger({ service: 'scoring-service', level: config.LOG_LEVEL });
const models = await loadModelRepository(config.SCORING_MODELS_DIR, {
  intraOpThreads: config.SCORING_INTRA_OP_THREADS,
});
logger.info(
  { dir: config.SCORING_MODELS_DIR, models: models.list().map((m) => `${m.name}@${m.version}`) },
  'models loaded from local directory',
);
await serve({
  name: 'scoring-service',
  logger,
  address: `${config.SCORING_SERVICE_HOST}:${config.SCORING_SERVICE_PORT}`,
  maxReceiveMessageBytes: config.SCORING_MAX_REQUEST_BYTES,
  services: [implement(GRPCInferenceService, createInferenceHandlers(models))],
  onStopped: async () => {
    await models.release();
    await shutdownTelemetry();
  },
});

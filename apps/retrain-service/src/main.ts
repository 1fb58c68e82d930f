import '@scoregate/config/supported-node';
import { loadConfigOrExit } from '@scoregate/config';
import { RetrainService } from '@scoregate/contracts';
import { implement, mutualTlsOrExit, serve } from '@scoregate/rpc';
import { createLogger, shutdownTelemetry } from '@scoregate/telemetry';
import { retrainServiceConfig } from './config.js';
import { createRetrainHandlers } from './retrain-handlers.js';

const config = loadConfigOrExit('retrain-service', retrainServiceConfig);
// mTLS between services (SCOREGATE_TLS_*): callers must present a certificate of the CA.
const tls = mutualTlsOrExit('retrain-service', config);
const logger = createLogger({ service: 'retrain-service', level: config.LOG_LEVEL });
logger.info({ mtls: Boolean(tls) }, `mTLS between services ${tls ? 'ON' : 'off'}`);
// Loaded after the Node version check: the store uses node:sqlite.
const { startOutcomeLoop } = await import('./join/outcome-loop.js');
const loop = await startOutcomeLoop(config, logger).catch(async (error: unknown) => {
  logger.fatal({ err: error }, `retrain-service failed to start: ${(error as Error).message}`);
  await shutdownTelemetry();
  process.exit(1);
});
logger.info(
  { store: loop.store.file, sources: loop.sources },
  `labelled examples in ${loop.store.file}; the join is fed by ${loop.sources.join(', ')}`,
);
await serve({
  name: 'retrain-service',
  logger,
  address: `${config.RETRAIN_SERVICE_HOST}:${config.RETRAIN_SERVICE_PORT}`,
  ...(tls ? { tls: tls.server } : {}),
  services: [
    implement(
      RetrainService,
      createRetrainHandlers({ store: loop.store, checkOutcomeClock: loop.checkRpcClock }),
    ),
  ],
  onStopped: async () => {
    await loop.stop();
    await shutdownTelemetry();
  },
});

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
await serve({
  name: 'retrain-service',
  logger,
  address: `${config.RETRAIN_SERVICE_HOST}:${config.RETRAIN_SERVICE_PORT}`,
  ...(tls ? { tls: tls.server } : {}),
  services: [implement(RetrainService, createRetrainHandlers())],
  onStopped: shutdownTelemetry,
});

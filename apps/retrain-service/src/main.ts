import { loadConfigOrExit } from '@scoregate/config';
import { RetrainService } from '@scoregate/contracts';
import { implement, serve } from '@scoregate/rpc';
import { createLogger, shutdownTelemetry } from '@scoregate/telemetry';
import { retrainServiceConfig } from './config.js';
import { createRetrainHandlers } from './retrain-handlers.js';

const config = loadConfigOrExit('retrain-service', retrainServiceConfig);
const logger = createLogger({ service: 'retrain-service', level: config.LOG_LEVEL });
await serve({
  name: 'retrain-service',
  logger,
  address: `${config.RETRAIN_SERVICE_HOST}:${config.RETRAIN_SERVICE_PORT}`,
  services: [implement(RetrainService, createRetrainHandlers())],
  onStopped: shutdownTelemetry,
});

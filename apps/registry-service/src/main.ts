import { env, loadConfigOrExit } from '@scoregate/config';
import { RegistryService } from '@scoregate/contracts';
import { implement, serve } from '@scoregate/rpc';
import { createLogger, shutdownTelemetry } from '@scoregate/telemetry';
import {
  CatalogueError,
  DEFAULT_CATALOGUE_FILE,
  DEFAULT_MANIFEST_FILE,
  loadCatalogue,
} from './catalogue.js';
import { createRegistryHandlers } from './registry-handlers.js';

const config = loadConfigOrExit('registry-service', {
  REGISTRY_SERVICE_HOST: env.string('127.0.0.1'),
  REGISTRY_SERVICE_PORT: env.port(50054),
  REGISTRY_MODELS_MANIFEST: env.string(DEFAULT_MANIFEST_FILE),
  REGISTRY_CATALOGUE_FILE: env.string(DEFAULT_CATALOGUE_FILE),
});
const logger = createLogger({ service: 'registry-service' });

const catalogue = await loadCatalogue({
  manifestFile: config.REGISTRY_MODELS_MANIFEST,
  catalogueFile: config.REGISTRY_CATALOGUE_FILE,
}).catch(async (error: unknown) => {
  if (!(error instanceof CatalogueError)) throw error;
  logger.error(error.message);
  await shutdownTelemetry();
  process.exit(78); // EX_CONFIG, as for a bad environment variable
});
const [models, scorers] = await Promise.all([catalogue.listModels(), catalogue.listScorers()]);
logger.info(
  {
    manifest: catalogue.manifestFile,
    catalogue: catalogue.catalogueFile,
    models: models.length,
    scorers: scorers.length,
  },
  `serving a read-only catalogue of ${models.length} model(s) and ${scorers.length} scorer(s), loaded from ${catalogue.source}; uploads and alias moves are not available yet`,
);

await serve({
  name: 'registry-service',
  logger,
  address: `${config.REGISTRY_SERVICE_HOST}:${config.REGISTRY_SERVICE_PORT}`,
  services: [implement(RegistryService, createRegistryHandlers(catalogue))],
  onStopped: shutdownTelemetry,
});

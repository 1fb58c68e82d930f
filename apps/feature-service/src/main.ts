import { fileURLToPath } from 'node:url';
import { FeatureService } from '@scoregate/contracts';
import { env, loadConfigOrExit } from '@scoregate/config';
import { implement, serve } from '@scoregate/rpc';
import { createLogger, shutdownTelemetry } from '@scoregate/telemetry';
import { createFeatureHandlers } from './feature-handlers.js';
import { defaultFeatureViewsFile, loadFeatureViews } from './feature-views.js';
import { createMemoryFeatureStore } from './memory-feature-store.js';
import { defaultSeedFile, loadSeedRows } from './demo-seed.js';

const config = loadConfigOrExit('feature-service', {
  FEATURE_SERVICE_HOST: env.string('127.0.0.1'),
  FEATURE_SERVICE_PORT: env.port(50052),
  FEATURE_VIEWS_FILE: env.optionalString(),
  /** A demo entities file, or `none` for an empty store. */
  FEATURE_SEED_FILE: env.optionalString(),
});
const logger = createLogger({ service: 'feature-service' });

try {
  const catalog = await loadFeatureViews(config.FEATURE_VIEWS_FILE ?? defaultFeatureViewsFile);
  logger.info(
    { views: catalog.views.map((view) => `${view.name}@${view.version}`) },
    `loaded ${catalog.views.length} feature view(s)`,
  );

  const store = createMemoryFeatureStore({ catalog });
  if (config.FEATURE_SEED_FILE === 'none') {
    logger.warn(
      'feature store: in-memory, EMPTY (FEATURE_SEED_FILE=none); data is lost on restart',
    );
  } else {
    const seedFile = config.FEATURE_SEED_FILE ?? defaultSeedFile;
    const rows = await loadSeedRows(seedFile, catalog, Date.now());
    await store.write(rows);
    logger.warn(
      { seedFile: seedFile instanceof URL ? fileURLToPath(seedFile) : seedFile, rows: rows.length },
      `feature store: in-memory, seeded with ${rows.length} DEMO row(s) stamped now; data is lost on restart`,
    );
  }

  await serve({
    name: 'feature-service',
    logger,
    address: `${config.FEATURE_SERVICE_HOST}:${config.FEATURE_SERVICE_PORT}`,
    services: [implement(FeatureService, createFeatureHandlers({ catalog, store }))],
    onStopped: () => shutdownTelemetry(),
  });
} catch (error) {
  logger.fatal({ err: error }, `feature-service failed to start: ${(error as Error).message}`);
  await shutdownTelemetry();
  process.exit(1);
}

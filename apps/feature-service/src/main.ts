import '@scoregate/config/supported-node';
import { FeatureService } from '@scoregate/contracts';
import { env, loadConfigOrExit, logLevelEnv } from '@scoregate/config';
import { implement, mutualTlsEnv, mutualTlsOrExit, serve } from '@scoregate/rpc';
import { createLogger, shutdownTelemetry } from '@scoregate/telemetry';
import { createFeatureHandlers } from './feature-handlers.js';
import { defaultFeatureViewsFile, loadFeatureViews } from './feature-views.js';
import { createFeatureStore, featureStoreEnv } from './store-factory.js';
import { clockSkewEnv, featureClockSkewGuard } from './clock-skew.js';

const config = loadConfigOrExit('feature-service', {
  FEATURE_SERVICE_HOST: env.string('127.0.0.1'),
  FEATURE_SERVICE_PORT: env.port(50052),
  FEATURE_VIEWS_FILE: env.optionalString(),
  ...featureStoreEnv,
  ...clockSkewEnv,
  ...logLevelEnv,
  ...mutualTlsEnv,
});
// mTLS between services (SCOREGATE_TLS_*): callers must present a certificate of the CA.
const tls = mutualTlsOrExit('feature-service', config);
const logger = createLogger({ service: 'feature-service', level: config.LOG_LEVEL });
logger.info({ mtls: Boolean(tls) }, `mTLS between services ${tls ? 'ON' : 'off'}`);

try {
  const catalog = await loadFeatureViews(config.FEATURE_VIEWS_FILE ?? defaultFeatureViewsFile);
  logger.info(
    { views: catalog.views.map((view) => `${view.name}@${view.version}`) },
    `loaded ${catalog.views.length} feature view(s)`,
  );

  const opened = await createFeatureStore(config, logger, { catalog });

  await serve({
    name: 'feature-service',
    logger,
    address: `${config.FEATURE_SERVICE_HOST}:${config.FEATURE_SERVICE_PORT}`,
    ...(tls ? { tls: tls.server } : {}),
    services: [
      implement(
        FeatureService,
        createFeatureHandlers({
          catalog,
          store: opened.store,
          clockSkew: featureClockSkewGuard({ toleranceMs: config.FEATURE_CLOCK_SKEW_TOLERANCE_MS }),
        }),
      ),
    ],
    onStopped: async () => {
      await opened.close();
      await shutdownTelemetry();
    },
  });
} catch (error) {
  logger.fatal({ err: error }, `feature-service failed to start: ${(error as Error).message}`);
  await shutdownTelemetry();
  process.exit(1);
}

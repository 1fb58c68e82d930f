import '@scoregate/config/supported-node';
import { fileURLToPath } from 'node:url';
import { env, loadConfigOrExit, logLevelEnv } from '@scoregate/config';
import { RegistryService } from '@scoregate/contracts';
import { implement, mutualTlsEnv, mutualTlsOrExit, serve } from '@scoregate/rpc';
import { createLogger, shutdownTelemetry } from '@scoregate/telemetry';
import { createArtifactStore } from './artifact-store.js';
import {
  CatalogueError,
  DEFAULT_CATALOGUE_FILE,
  DEFAULT_MANIFEST_FILE,
  loadCatalogue,
} from './catalogue.js';
import { importCatalogue } from './catalogue-import.js';
import { startEventRelay } from './event-relay.js';
import {
  DEFAULT_FEATURE_VIEWS_FILE,
  FeatureViewsError,
  loadFeatureViews,
} from './feature-views.js';
import { REGISTRY_EVENTS_TOPIC } from './registry-events.js';
import { createRegistryHandlers } from './registry-handlers.js';
import { openRegistryDatabase } from './store/open-database.js';
import { createRegistryStore } from './store/registry-store.js';
import { createVersionIntake, MAX_CHUNK_BYTES } from './version-intake.js';

const DEFAULT_DATA_DIR = fileURLToPath(new URL('../../../.data/registry', import.meta.url));

const config = loadConfigOrExit('registry-service', {
  REGISTRY_SERVICE_HOST: env.string('127.0.0.1'),
  REGISTRY_SERVICE_PORT: env.port(50054),
  REGISTRY_DATA_DIR: env.string(DEFAULT_DATA_DIR),
  REGISTRY_DATABASE_URL: env.optionalString(),
  REGISTRY_DATABASE_SCHEMA: env.string('public'),
  REGISTRY_MAX_UPLOAD_BYTES: env.positiveInt(256 * 1024 * 1024),
  REGISTRY_CHANGE_LOG_RETENTION: env.positiveInt(100_000),
  REGISTRY_WATCH_POLL_MS: env.positiveInt(500),
  REGISTRY_KAFKA_BROKERS: env.optionalString(),
  REGISTRY_MODELS_MANIFEST: env.string(DEFAULT_MANIFEST_FILE),
  REGISTRY_CATALOGUE_FILE: env.string(DEFAULT_CATALOGUE_FILE),
  REGISTRY_FEATURE_VIEWS_FILE: env.string(DEFAULT_FEATURE_VIEWS_FILE),
  ...logLevelEnv,
  ...mutualTlsEnv,
});
// mTLS between services (SCOREGATE_TLS_*): callers must present a certificate of the CA.
const tls = mutualTlsOrExit('registry-service', config);
const logger = createLogger({ service: 'registry-service', level: config.LOG_LEVEL });
logger.info({ mtls: Boolean(tls) }, `mTLS between services ${tls ? 'ON' : 'off'}`);

async function exitConfig(message: string): Promise<never> {
  logger.error(message);
  await shutdownTelemetry();
  process.exit(78); // EX_CONFIG, as for a bad environment variable
}

const db = await openRegistryDatabase({
  dataDir: config.REGISTRY_DATA_DIR,
  ...(config.REGISTRY_DATABASE_URL ? { databaseUrl: config.REGISTRY_DATABASE_URL } : {}),
  schema: config.REGISTRY_DATABASE_SCHEMA,
});
// Scorers are checked against the feature views the feature-service serves ('none' = unchecked).
const featureViews =
  config.REGISTRY_FEATURE_VIEWS_FILE === 'none'
    ? undefined
    : await loadFeatureViews(config.REGISTRY_FEATURE_VIEWS_FILE).catch((error: unknown) => {
        if (error instanceof FeatureViewsError) return exitConfig(error.message);
        throw error;
      });
const store = await createRegistryStore(db, {
  ...(featureViews ? { featureViews } : {}),
  changeLogRetention: config.REGISTRY_CHANGE_LOG_RETENTION,
});
const artifacts = await createArtifactStore(config.REGISTRY_DATA_DIR);
const removed = await store.withReferencedDigests((referenced) => artifacts.sweep(referenced));
if (removed.length > 0)
  logger.warn(
    { removed },
    `removed ${removed.length} artifact file(s) that no committed version references`,
  );
// The Kafka client is loaded only when events are on.
const events = config.REGISTRY_KAFKA_BROKERS
  ? (await import('./registry-events-kafka.js')).createRegistryEventsFromConfig({
      brokers: config.REGISTRY_KAFKA_BROKERS,
      logger,
    })
  : undefined;
const intake = createVersionIntake({
  store,
  artifacts,
  maxUploadBytes: config.REGISTRY_MAX_UPLOAD_BYTES,
});

if ((await store.revision()) === 0n && config.REGISTRY_CATALOGUE_FILE !== 'none') {
  const catalogue = await loadCatalogue({
    manifestFile: config.REGISTRY_MODELS_MANIFEST,
    catalogueFile: config.REGISTRY_CATALOGUE_FILE,
  }).catch((error: unknown) => {
    if (error instanceof CatalogueError) return exitConfig(error.message);
    throw error;
  });
  const imported = await importCatalogue(catalogue, store, intake);
  logger.info(
    { ...imported, source: catalogue.source },
    `the registry was empty: imported ${imported.versions} version(s), ${imported.aliases} alias(es) and ${imported.scorers} scorer(s) from ${catalogue.source}`,
  );
}
// Events follow the change log, so a change committed while Kafka or this process was down is
// published later.
const relay = events
  ? startEventRelay({ store, events, name: REGISTRY_EVENTS_TOPIC, logger })
  : undefined;
logger.info(
  {
    database: store.location,
    artifacts: artifacts.root,
    revision: String(await store.revision()),
    events: events ? 'kafka' : 'off',
  },
  `registry metadata in ${store.dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL'} (${store.location}), artifacts in ${artifacts.root}${events ? '' : '; Kafka events off (REGISTRY_KAFKA_BROKERS unset)'}`,
);

await serve({
  name: 'registry-service',
  logger,
  address: `${config.REGISTRY_SERVICE_HOST}:${config.REGISTRY_SERVICE_PORT}`,
  // One upload chunk (at most 1 MiB) plus its framing.
  maxReceiveMessageBytes: MAX_CHUNK_BYTES + 64 * 1024,
  ...(tls ? { tls: tls.server } : {}),
  services: [
    implement(
      RegistryService,
      createRegistryHandlers({
        store,
        artifacts,
        intake,
        watchPollMs: config.REGISTRY_WATCH_POLL_MS,
      }),
    ),
  ],
  onStopped: async () => {
    await relay?.stop();
    await events?.close();
    await store.close();
    await shutdownTelemetry();
  },
});

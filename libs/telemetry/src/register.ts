/**
 * Process entry hook: `node --import @scoregate/telemetry/register app.js`.
 *
 * Runs before the application's modules load. The order matters: instrumentations are
 * created and the import hook registered first, and only then is the SDK loaded (dynamic
 * import), so that no instrumented module — the SDK's own gRPC exporter pulls in
 * `@grpc/grpc-js` — is loaded before it can be wrapped.
 */
import { isMainThread } from 'node:worker_threads';
import { loadConfigOrExit, logLevelEnv } from '@scoregate/config';
import { registerImportHooks } from './import-hooks.js';
import { createInstrumentations, instrumentedModuleNames } from './instrumentations.js';
import { createLogger } from './logger.js';
import { loadTelemetryConfig } from './telemetry-config.js';

const config = loadTelemetryConfig(process.env);
const { LOG_LEVEL } = loadConfigOrExit('telemetry', logLevelEnv);

// Workers inherit --import; one SDK per process is enough.
if (isMainThread && !config.sdkDisabled) {
  const instrumentations = createInstrumentations();
  registerImportHooks(instrumentedModuleNames(instrumentations));
  // Standard error: standard output may carry a program's result.
  const log = createLogger({
    service: config.serviceName ?? 'telemetry',
    level: LOG_LEVEL,
    destination: process.stderr,
  }).child({
    component: 'telemetry',
  });
  const { startTelemetry } = await import('./sdk.js');
  startTelemetry(config, instrumentations, (message, error) => log.warn({ err: error }, message));
  for (const warning of config.warnings) log.warn(warning);
  if (config.notice !== undefined) log.info(config.notice);
}

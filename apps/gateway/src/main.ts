import '@scoregate/config/supported-node';
import { loadConfigOrExit } from '@scoregate/config';
import { FeatureService, RegistryService, ScoreService } from '@scoregate/contracts';
import { createRpcClient, implement, mutualTlsOrExit, serve } from '@scoregate/rpc';
import { createLogger, shutdownTelemetry } from '@scoregate/telemetry';
import { Admission } from './admission.js';
import { gatewaySecurity } from './auth/index.js';
import { gatewayConfig } from './config.js';
import { createChainResilience } from './chain-resilience.js';
import { FeatureCircuit } from './feature-circuit.js';
import { createPredictionLog, predictionLogOptions } from './prediction-log/index.js';
import { createRouteTable } from './routes/route-table.js';
import { createShadowRunner } from './routes/shadow.js';
import { logShadowResult } from './shadow-log.js';
import { createScoringBackends } from './scoring-backends.js';
import { createScoreHandlers } from './score-handlers.js';
import { warmUp } from './warm-up.js';

const config = loadConfigOrExit('gateway', gatewayConfig);
mutualTlsOrExit('gateway', config);
const logger = createLogger({ service: 'gateway', level: config.LOG_LEVEL });
const security = gatewaySecurity(config, logger);
const registry = createRpcClient(RegistryService, {
  address: config.REGISTRY_SERVICE_ADDRESS,
  ...security.client,
});
const features = createRpcClient(FeatureService, {
  address: config.FEATURE_SERVICE_ADDRESS,
  ...security.client,
});
const scoring = createScoringBackends({
  defaultAddress: config.SCORING_SERVICE_ADDRESS,
  ...(config.SCORING_ROUTES ? { routes: config.SCORING_ROUTES } : {}),
  ...security.client,
});
const predictionLog = createPredictionLog(predictionLogOptions(config), logger);
// Scorer routes follow the registry's Watch; the last known routes serve while it is down.
const routes = createRouteTable({ registry, logger });
const shadow = createShadowRunner({
  scoring: (model: string) => scoring.forModel(model).client,
  logger,
  maxInFlight: config.GATEWAY_SHADOW_MAX_IN_FLIGHT,
  timeoutMs: config.GATEWAY_SHADOW_TIMEOUT_MS,
  onResult: logShadowResult(predictionLog),
});
const admission = new Admission({
  minimumMs: config.GATEWAY_RESPONSE_RESERVE_MS,
  defaultBudgetMs: config.GATEWAY_DEFAULT_BUDGET_MS,
  limit: {
    initialLimit: config.GATEWAY_ADMISSION_RESTING_LIMIT,
    targetQueueMs: config.GATEWAY_ADMISSION_QUEUE_TARGET_MS,
    latencyTarget: config.GATEWAY_ADMISSION_LATENCY_TARGET,
    minLimit: config.GATEWAY_ADMISSION_MIN_LIMIT,
  },
});
const handlers = createScoreHandlers({
  admission,
  routes,
  predictionLog,
  shadow,
  features,
  scoring,
  resilience: createChainResilience({ hedging: config.GATEWAY_HEDGING }),
  featureCircuit: new FeatureCircuit({
    consecutiveFailures: config.GATEWAY_FEATURE_CIRCUIT_FAILURES,
    openMs: config.GATEWAY_FEATURE_CIRCUIT_OPEN_MS,
    logger,
    // Late reads in the half second after the gateway's own loop queued were late here.
    selfQueued: () => admission.limit.queuedWithin(500),
  }),
  logger,
  defaultBudgetMs: config.GATEWAY_DEFAULT_BUDGET_MS,
  responseReserveMs: config.GATEWAY_RESPONSE_RESERVE_MS,
});
// Connect to the services behind before taking traffic, so the first calls do not pay for it;
// one that is not up yet is reported and connected to later.
const downstream = {
  'registry-service': registry,
  'feature-service': features,
  'scoring-service': scoring,
};
for (const [name, client] of Object.entries(downstream)) {
  await client
    .waitForReady(2_000)
    .catch(() =>
      logger.warn(`${name} not reachable yet; the gateway starts anyway and degrades until it is`),
    );
}
const { server, port } = await serve({
  name: 'gateway',
  logger,
  address: `${config.GATEWAY_HOST}:${config.GATEWAY_PORT}`,
  maxReceiveMessageBytes: config.GATEWAY_MAX_REQUEST_BYTES,
  interceptors: security.interceptors,
  refuseEarly: admission.refuseEarly,
  ...security.server,
  services: [implement(ScoreService, handlers)],
  onStopped: async () => {
    admission.stop();
    await routes.stop();
    await shadow.drain(500);
    await predictionLog.close(5_000);
    for (const client of [registry, features, scoring]) client.close();
    await shutdownTelemetry();
  },
});
// Not SERVING until a first Score per scorer went through the whole path.
server.setServing(false);
server.setServing(false, ScoreService.typeName);
await Promise.race([routes.whenReady(), new Promise((resolve) => setTimeout(resolve, 5_000))]);
const warmed = await warmUp({
  gatewayAddress: `${config.GATEWAY_HOST}:${port}`,
  registry,
  logger,
  timeoutMs: 5_000,
  self: security.self,
});
server.setServing(true);
server.setServing(true, ScoreService.typeName);
logger.info({ scorers: warmed }, 'warmed up: SERVING');

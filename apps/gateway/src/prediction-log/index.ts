/**
 * The gateway's prediction log. Wiring (main.ts and the Score path):
 *
 *   const config = loadConfigOrExit('gateway', { ...gatewayConfig, ...predictionLogConfig });
 *   const predictionLog = createPredictionLog(predictionLogOptions(config), logger);
 *   // in score(), once the response is built (nothing is awaited, nothing can throw); built
 *   // later by the flusher, from these values only (never a closure over the handler's scope):
 *   deps.predictionLog.record(
 *     lazyPredictionEvent({
 *       request: valid,
 *       response,
 *       contract: answer?.chainModel.contract,
 *       stored,
 *       requestFeatures: valid.requestFeatures,
 *       tenant: tenantOf(context), // absent without authentication
 *     }),
 *   );
 *   // in scoreBatch(), one event per item (the batch's request id, `batchIndex: i`), one call:
 *   deps.predictionLog.recordAll(items.map((item, i) => lazyPredictionEvent({ ... })));
 *   // on shutdown, before shutdownTelemetry(): await predictionLog.close(5_000);
 *
 * Call record() inside the request's context so its trace goes in the record's headers.
 */
export {
  createPredictionLog,
  type PredictionEvent,
  type PredictionEventInit,
  type PredictionLog,
  type PredictionLogOptions,
  type PredictionLogStats,
  type PredictionSink,
} from './prediction-log.js';
export {
  featuresUsed,
  lazyPredictionEvent,
  predictionEventFromAnswer,
  type AnswerToLog,
  type LazyAnswerToLog,
} from './prediction-event.js';
export { predictionLogConfig, predictionLogOptions } from './config.js';

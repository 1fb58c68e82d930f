export {
  createPredictionLog,
  type PredictionEventInit,
  type PredictionLog,
  type PredictionLogOptions,
  type PredictionLogStats,
  type PredictionSink,
} from './prediction-log.js';
export { featuresUsed, predictionEventFromAnswer, type AnswerToLog } from './prediction-event.js';
export { predictionLogConfig, predictionLogOptions } from './config.js';

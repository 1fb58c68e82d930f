import type { FeatureResult, FeatureValue } from '@scoregate/contracts';
import { outputsOfRow, scoreOfRow } from './inference.js';
import {
  featuresUsed,
  predictionEventFromAnswer,
  type PredictionLog,
} from './prediction-log/index.js';
import type { Route } from './route-resolver.js';
import type { ShadowResult } from './routes/shadow.js';
import type { ValidScoreRequest } from './score-request.js';

/** What a Score call hands its shadow job, so the shadow's answer can be logged beside it. */
export interface ShadowLogContext {
  readonly route: Route;
  readonly request: ValidScoreRequest;
  readonly stored: ReadonlyMap<string, FeatureResult>;
  readonly requestFeatures: Readonly<Record<string, FeatureValue>>;
  /** The authenticated tenant of the call; absent without authentication. */
  readonly tenant?: string;
}

/**
 * Logs a shadow model's answer as a PredictionLogged event marked `shadow`, for offline
 * comparison with the answer the caller got. Never returned to the caller.
 */
export function logShadowResult(predictionLog: PredictionLog) {
  return (result: ShadowResult): void => {
    const shadow = result.job.context as ShadowLogContext | undefined;
    if (!shadow || !result.tensors) return;
    const tensors = result.tensors;
    predictionLog.record(() =>
      predictionEventFromAnswer({
        request: shadow.request,
        response: {
          requestId: shadow.request.requestId,
          score: scoreOfRow(shadow.route, tensors, 0),
          outputs: outputsOfRow(tensors, 0),
          servedBy: {
            model: result.job.model.model,
            version: result.version ?? result.job.model.version,
            alias: result.job.model.alias,
          },
        },
        features: featuresUsed(result.job.model.contract, shadow.stored, shadow.requestFeatures),
        shadow: true,
        ...(shadow.tenant === undefined ? {} : { tenant: shadow.tenant }),
      }),
    );
  };
}

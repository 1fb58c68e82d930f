import type { ScoreService } from '@scoregate/contracts';
import { RpcError, type ServiceHandlers } from '@scoregate/rpc';
import { score, type ScoreDependencies } from './score-handler.js';

export function createScoreHandlers(deps: ScoreDependencies): ServiceHandlers<typeof ScoreService> {
  return {
    score: (request, context) => score(deps, request, context),
    scoreBatch: () => {
      throw RpcError.unimplemented('ScoreBatch is not implemented yet: call Score once per item');
    },
  };
}

import fc from 'fast-check';
import { ScoreBatchRequestSchema, ScoreRequestSchema } from '@scoregate/contracts';
import { singleMessageInputs } from '../fuzz-input.js';
import { hostileDuration, hostileString, maybe, nameFrom, repeated } from '../hostile-values.js';
import { DEMO_ENTITY, entityKey, requestFeatures } from './common-values.js';

const scorer = nameFrom(['truck-roll-priority', 'truck-roll-priority', 'no-such-scorer']);
const entityKeys = repeated(entityKey, 1, { count: 17 });
const budget = maybe(hostileDuration);
const requestId = maybe(nameFrom(['req-1', 'a'.repeat(128), 'a'.repeat(129)]));

/** Valid-shaped and hostile requests of ScoreService, by method name. */
export const gatewayInputs = {
  Score: singleMessageInputs(
    ScoreRequestSchema,
    fc.record({ scorer, entityKeys, requestFeatures, budget, requestId }, { requiredKeys: [] }),
  ),
  ScoreBatch: singleMessageInputs(
    ScoreBatchRequestSchema,
    fc.record(
      {
        scorer,
        items: repeated(fc.record({ entityKeys, requestFeatures }, { requiredKeys: [] }), 4, {
          count: 1001,
          item: fc.constant({ entityKeys: [DEMO_ENTITY] }),
        }),
        budget,
        requestId: maybe(hostileString),
      },
      { requiredKeys: [] },
    ),
  ),
};

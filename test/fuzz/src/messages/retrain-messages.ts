import fc from 'fast-check';
import {
  ListPoliciesRequestSchema,
  ListRunsRequestSchema,
  GetRunRequestSchema,
  PutPolicyRequestSchema,
  TriggerRetrainRequestSchema,
} from '@scoregate/contracts';
import { singleMessageInputs } from '../fuzz-input.js';
import {
  hostileDouble,
  hostileDuration,
  hostileInt32,
  hostileString,
  maybe,
  nameFrom,
} from '../hostile-values.js';

const models = ['truck-roll-gbt', 'truck-roll-logreg', 'no-such-model'];
const model = nameFrom(models);

/** Valid-shaped and hostile requests of every RetrainService RPC, by method name. */
export const retrainInputs = {
  TriggerRetrain: singleMessageInputs(
    TriggerRetrainRequestSchema,
    fc.record({ model, reason: hostileString, requestedBy: hostileString }, { requiredKeys: [] }),
  ),
  GetRun: singleMessageInputs(
    GetRunRequestSchema,
    fc.record({ id: nameFrom(['r-000001', 'r-999999']) }, { requiredKeys: [] }),
  ),
  ListRuns: singleMessageInputs(
    ListRunsRequestSchema,
    fc.record({ model, pageSize: hostileInt32, pageToken: hostileString }, { requiredKeys: [] }),
  ),
  PutPolicy: singleMessageInputs(
    PutPolicyRequestSchema,
    fc.record({
      policy: maybe(
        fc.record(
          {
            model,
            enabled: fc.boolean(),
            driftThreshold: hostileDouble,
            decayThreshold: hostileDouble,
            minOutcomes: fc.nat({ max: 2 ** 32 - 1 }),
            schedule: nameFrom(['0 3 * * *', '@daily']),
            cooldown: hostileDuration,
            trainingWindow: hostileDuration,
            trainer: nameFrom(['builtin-logreg']),
            gate: fc.record(
              {
                metric: nameFrom(['auc', 'logloss']),
                higherIsBetter: fc.boolean(),
                minImprovement: hostileDouble,
                promoteAlias: nameFrom(['champion']),
                demoteAlias: nameFrom(['fallback']),
                autoPromote: fc.boolean(),
              },
              { requiredKeys: [] },
            ),
          },
          { requiredKeys: [] },
        ),
      ),
    }),
  ),
  ListPolicies: singleMessageInputs(ListPoliciesRequestSchema, fc.constant({})),
};

import fc from 'fast-check';
import {
  GetJoinStatusRequestSchema,
  RecordOutcomesRequestSchema,
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
  hostileTimestamp,
  maybe,
  nameFrom,
  repeated,
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
  RecordOutcomes: singleMessageInputs(
    RecordOutcomesRequestSchema,
    fc.record({
      outcomes: repeated(
        fc.record(
          {
            // A small pool of ids, so that retries, duplicates and conflicting labels happen.
            requestId: fc.oneof(
              { weight: 4, arbitrary: fc.integer({ min: 0, max: 300 }).map((n) => `fuzz-${n}`) },
              { weight: 1, arbitrary: hostileString },
            ),
            batchIndex: fc.nat({ max: 3 }),
            label: fc.oneof(
              { weight: 4, arbitrary: fc.constantFrom(0, 1) },
              { weight: 1, arbitrary: hostileDouble },
            ),
            observedAt: maybe(hostileTimestamp),
            entityKey: maybe(fc.record({ entityType: nameFrom(['site']), key: hostileString })),
            scorer: hostileString,
            source: nameFrom(['labels', 'billing']),
          },
          { requiredKeys: [] },
        ),
        5,
        { count: 10_001, item: fc.constant({ requestId: 'x', label: 1 }) },
      ),
    }),
  ),
  GetJoinStatus: singleMessageInputs(GetJoinStatusRequestSchema, fc.constant({})),
};

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBinary } from '@bufbuild/protobuf';
import { RecordOutcomesResponseSchema, RetrainService } from '@scoregate/contracts';
import { Code, createRpcClient } from '@scoregate/rpc';
import { decoded, type FuzzInput } from './fuzz-input.js';
import { fuzzRpc, type BatchCheck, type FuzzResult } from './fuzz-runner.js';
import { fuzzTimeoutMs, notSelected } from './fuzz-settings.js';
import { startFuzzStack, type FuzzStack } from './fuzz-stack.js';
import { retrainInputs } from './messages/retrain-messages.js';

let stack: FuzzStack;
beforeAll(async () => {
  stack = await startFuzzStack();
});
afterAll(async () => {
  await stack?.dispose();
});

// Runs and policies are not built: every request they can decode is answered UNIMPLEMENTED,
// bytes they cannot decode INVALID_ARGUMENT (the rpc bridge, before any handler).
const unbuilt = ['TriggerRetrain', 'GetRun', 'ListRuns', 'PutPolicy', 'ListPolicies'] as const;

describe('RetrainService under fuzzed input', () => {
  it('covers every method of the service', () => {
    expect(RetrainService.methods.map((m) => m.name).sort()).toEqual(
      [...unbuilt, 'RecordOutcomes', 'GetJoinStatus'].sort(),
    );
  });

  it.skipIf(notSelected('RecordOutcomes'))(
    'RecordOutcomes: a documented status for every input, and a refused call records nothing',
    async () => {
      const checked = { batches: 0 };
      const report = await fuzzRpc(stack, {
        service: 'retrain-service',
        method: RetrainService.method.recordOutcomes,
        allowed: [Code.OK, Code.INVALID_ARGUMENT, Code.RESOURCE_EXHAUSTED],
        inputs: retrainInputs.RecordOutcomes,
        around: () => nothingRefusedRecorded(checked),
      });
      expect(report.statuses.get('OK')).toBeGreaterThan(0);
      expect(report.statuses.get('INVALID_ARGUMENT')).toBeGreaterThan(0);
      expect(checked.batches).toBeGreaterThan(0);
    },
    fuzzTimeoutMs,
  );

  it.skipIf(notSelected('GetJoinStatus'))(
    'GetJoinStatus: OK for every request it can decode, INVALID_ARGUMENT for undecodable bytes',
    async () => {
      const report = await fuzzRpc(stack, {
        service: 'retrain-service',
        method: RetrainService.method.getJoinStatus,
        allowed: [Code.OK, Code.INVALID_ARGUMENT],
        inputs: retrainInputs.GetJoinStatus,
      });
      expect(report.statuses.get('OK')).toBeGreaterThan(0);
    },
    fuzzTimeoutMs,
  );

  for (const name of unbuilt) {
    const method = RetrainService.methods.find((m) => m.name === name)!;
    it.skipIf(notSelected(name))(
      `${name}: UNIMPLEMENTED for every request, INVALID_ARGUMENT for undecodable bytes`,
      async () => {
        const exactly = (results: readonly FuzzResult[]) => {
          for (const { input, answer } of results) {
            const expected = decodes(method.input, input)
              ? Code.UNIMPLEMENTED
              : Code.INVALID_ARGUMENT;
            expect(Code[answer.code], answer.details).toBe(Code[expected]);
          }
          return Promise.resolve();
        };
        const report = await fuzzRpc(stack, {
          service: 'retrain-service',
          method,
          allowed: [Code.UNIMPLEMENTED, Code.INVALID_ARGUMENT],
          inputs: retrainInputs[name],
          around: async () => exactly,
        });
        expect(report.statuses.get('UNIMPLEMENTED')).toBeGreaterThan(0);
      },
      fuzzTimeoutMs,
    );
  }
});

/**
 * The all-or-nothing property of RecordOutcomes, for a batch of concurrent calls: the join's
 * outcome counts grow by exactly what the calls answered OK say they applied, so a refused call
 * recorded nothing, not even part of its outcomes.
 */
async function nothingRefusedRecorded(checked: { batches: number }): Promise<BatchCheck> {
  const before = await outcomeCounts();
  return async (results: readonly FuzzResult[]) => {
    let applied = 0n;
    for (const { answer } of results) {
      const bytes = answer.messages[0];
      if (answer.code !== Code.OK || bytes === undefined) continue;
      const reply = fromBinary(RecordOutcomesResponseSchema, bytes);
      applied += BigInt(reply.recorded + reply.duplicates + reply.conflicts);
    }
    expect(await outcomeCounts()).toBe(before + applied);
    checked.batches++;
  };
}

async function outcomeCounts(): Promise<bigint> {
  const client = createRpcClient(RetrainService, {
    address: stack.address('retrain-service'),
    ...(stack.tls ? { tls: stack.tls } : {}),
  });
  try {
    const { counts } = await client.getJoinStatus({}, { timeoutMs: 10_000 });
    return (
      (counts?.outcomes ?? 0n) +
      (counts?.duplicateOutcomes ?? 0n) +
      (counts?.conflictingOutcomes ?? 0n)
    );
  } finally {
    client.close();
  }
}

function decodes(schema: Parameters<typeof decoded>[0], input: FuzzInput): boolean {
  return decoded(schema, input.messages[0]) !== undefined;
}

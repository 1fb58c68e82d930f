import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RetrainService } from '@scoregate/contracts';
import { Code } from '@scoregate/rpc';
import { decoded, type FuzzInput } from './fuzz-input.js';
import { fuzzRpc, type FuzzResult } from './fuzz-runner.js';
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

// The retraining loop is not built: every request it can decode is answered UNIMPLEMENTED,
// bytes it cannot decode INVALID_ARGUMENT (the rpc bridge, before any handler).
describe('RetrainService under fuzzed input', () => {
  for (const method of RetrainService.methods) {
    const name = method.name as keyof typeof retrainInputs;
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

function decodes(schema: Parameters<typeof decoded>[0], input: FuzzInput): boolean {
  return decoded(schema, input.messages[0]) !== undefined;
}

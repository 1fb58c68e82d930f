import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScoreService } from '@scoregate/contracts';
import { Code } from '@scoregate/rpc';
import { fuzzRpc } from './fuzz-runner.js';
import { fuzzTimeoutMs, notSelected } from './fuzz-settings.js';
import { startFuzzStack, type FuzzStack } from './fuzz-stack.js';
import { gatewayInputs } from './messages/gateway-messages.js';

let stack: FuzzStack;
beforeAll(async () => {
  stack = await startFuzzStack();
});
afterAll(async () => {
  await stack?.dispose();
});

// gateway.proto: INVALID_ARGUMENT (the field at fault), NOT_FOUND (unknown scorer),
// RESOURCE_EXHAUSTED (admission control, or a message over the size limit), DEADLINE_EXCEEDED
// (the budget ended before even the default answer). Credentials are off in this stack.
const documented = [
  Code.OK,
  Code.INVALID_ARGUMENT,
  Code.NOT_FOUND,
  Code.RESOURCE_EXHAUSTED,
  Code.DEADLINE_EXCEEDED,
];

describe('ScoreService under fuzzed input', () => {
  for (const method of ScoreService.methods) {
    const name = method.name as keyof typeof gatewayInputs;
    it.skipIf(notSelected(name))(
      `${name}: a documented status for every input, no crash, no hang`,
      async () => {
        const report = await fuzzRpc(stack, {
          service: 'gateway',
          method,
          allowed: documented,
          inputs: gatewayInputs[name],
        });
        // The generators reach the scoring path, not only the validation.
        expect(report.statuses.get('OK')).toBeGreaterThan(0);
      },
      fuzzTimeoutMs,
    );
  }
});

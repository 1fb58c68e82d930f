import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRPCInferenceService } from '@scoregate/contracts';
import { Code } from '@scoregate/rpc';
import { fuzzRpc } from './fuzz-runner.js';
import { fuzzTimeoutMs, notSelected } from './fuzz-settings.js';
import { startFuzzStack, type FuzzStack } from './fuzz-stack.js';
import { inferenceInputs } from './messages/inference-messages.js';

let stack: FuzzStack;
beforeAll(async () => {
  stack = await startFuzzStack();
});
afterAll(async () => {
  await stack?.dispose();
});

// grpc_predict_v2.proto: INVALID_ARGUMENT for malformed tensors, NOT_FOUND for an unknown model;
// RESOURCE_EXHAUSTED for a message over the size limit. ModelReady answers OK with ready=false
// for a model it does not serve.
const documented = {
  ModelInfer: [Code.OK, Code.INVALID_ARGUMENT, Code.NOT_FOUND, Code.RESOURCE_EXHAUSTED],
  ModelMetadata: [Code.OK, Code.INVALID_ARGUMENT, Code.NOT_FOUND],
  ModelReady: [Code.OK, Code.INVALID_ARGUMENT],
};

describe('the inference service (KServe v2) under fuzzed input', () => {
  for (const name of Object.keys(inferenceInputs) as (keyof typeof inferenceInputs)[]) {
    it.skipIf(notSelected(name))(
      `${name}: a documented status for every input, no crash, no hang`,
      async () => {
        const method = GRPCInferenceService.methods.find((m) => m.name === name)!;
        const report = await fuzzRpc(stack, {
          service: 'scoring-service',
          method,
          allowed: documented[name],
          inputs: inferenceInputs[name],
        });
        expect(report.statuses.get('OK')).toBeGreaterThan(0);
      },
      fuzzTimeoutMs,
    );
  }
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeatureService } from '@scoregate/contracts';
import { Code, createRawClient, type RawClient } from '@scoregate/rpc';
import { unchangedUnlessWritten } from './feature-store-snapshot.js';
import { fuzzRpc, type RpcTarget } from './fuzz-runner.js';
import { fuzzTimeoutMs, notSelected } from './fuzz-settings.js';
import { startFuzzStack, type FuzzStack } from './fuzz-stack.js';
import { featureInputs } from './messages/feature-messages.js';

let stack: FuzzStack;
let reader: RawClient;
beforeAll(async () => {
  stack = await startFuzzStack();
  reader = createRawClient({ address: stack.address('feature-service'), tls: stack.tls });
});
afterAll(async () => {
  reader?.close();
  await stack?.dispose();
});

// feature.proto: INVALID_ARGUMENT (the field at fault), NOT_FOUND (unknown view or feature),
// RESOURCE_EXHAUSTED (overloaded, or a message over the size limit). The stack's store is in
// memory, so UNAVAILABLE (store unreachable) is not expected. NaN and infinities are refused with
// INVALID_ARGUMENT (common.proto).
const documented = [Code.OK, Code.INVALID_ARGUMENT, Code.NOT_FOUND, Code.RESOURCE_EXHAUSTED];
const target = (name: keyof typeof featureInputs): RpcTarget => ({
  service: 'feature-service',
  method:
    FeatureService.method[
      (name[0]!.toLowerCase() + name.slice(1)) as keyof typeof FeatureService.method
    ],
  allowed: documented,
  inputs: featureInputs[name],
});

describe('FeatureService under fuzzed input', () => {
  it.skipIf(notSelected('GetFeatures'))(
    'GetFeatures: a documented status for every input, no crash, no hang',
    async () => {
      const report = await fuzzRpc(stack, target('GetFeatures'));
      expect(report.statuses.get('OK')).toBeGreaterThan(0);
    },
    fuzzTimeoutMs,
  );

  it.skipIf(notSelected('WriteFeatures'))(
    'WriteFeatures: a documented status for every input, and a refused write changes nothing',
    async () => {
      const checked = { entities: 0 };
      const report = await fuzzRpc(stack, {
        ...target('WriteFeatures'),
        around: unchangedUnlessWritten(reader, FeatureService.method.getFeatures, checked),
      });
      expect(report.statuses.get('OK')).toBeGreaterThan(0);
      expect(checked.entities).toBeGreaterThan(0);
      console.log(`WriteFeatures: ${checked.entities} entity reads compared after refused writes`);
    },
    fuzzTimeoutMs,
  );

  it.skipIf(notSelected('ListFeatureViews'))(
    'ListFeatureViews: OK for every decodable request, INVALID_ARGUMENT otherwise',
    async () => {
      const report = await fuzzRpc(stack, {
        ...target('ListFeatureViews'),
        allowed: [Code.OK, Code.INVALID_ARGUMENT],
      });
      expect(report.statuses.get('OK')).toBeGreaterThan(0);
    },
    fuzzTimeoutMs,
  );
});

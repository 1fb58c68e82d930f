import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryService } from '@scoregate/contracts';
import { Code, createRawClient, type RawClient } from '@scoregate/rpc';
import { fuzzRpc, type RpcTarget } from './fuzz-runner.js';
import { fuzzTimeoutMs, notSelected } from './fuzz-settings.js';
import { startFuzzStack, type FuzzStack } from './fuzz-stack.js';
import { registryInputs } from './messages/registry-messages.js';
import { REGISTRY_WRITES, registryUnchangedUnlessWritten } from './registry-snapshot.js';

let stack: FuzzStack;
let reader: RawClient;
beforeAll(async () => {
  stack = await startFuzzStack();
  reader = createRawClient({ address: stack.address('registry-service'), tls: stack.tls });
});
afterAll(async () => {
  reader?.close();
  await stack?.dispose();
});

// registry.proto: INVALID_ARGUMENT (the field at fault), NOT_FOUND, FAILED_PRECONDITION (an alias
// compare-and-set did not match, or a scorer refers to something that does not exist),
// ALREADY_EXISTS, RESOURCE_EXHAUSTED (artifact or message too large). Authentication is off.
const documented = [
  Code.OK,
  Code.INVALID_ARGUMENT,
  Code.NOT_FOUND,
  Code.FAILED_PRECONDITION,
  Code.ALREADY_EXISTS,
  Code.RESOURCE_EXHAUSTED,
];

/**
 * Watch never ends by itself: each is read until a short deadline. 32 concurrent Watches ended by
 * the client (cancel, or its deadline) are many HTTP/2 stream resets: the server must keep the
 * connection (libs/rpc server.ts, STREAM_RESETS), so no call beside them fails INTERNAL.
 */
const streaming: Partial<Record<string, Partial<RpcTarget>>> = {
  Watch: {
    timeoutMs: 300,
    allowed: [...documented, Code.DEADLINE_EXCEEDED],
  },
};

describe('RegistryService under fuzzed input', () => {
  for (const method of RegistryService.methods) {
    const name = method.name as keyof typeof registryInputs;
    const write = REGISTRY_WRITES.includes(name);
    it.skipIf(notSelected(name))(
      `${name}: a documented status for every input${write ? ', and a refused write changes nothing' : ''}`,
      async () => {
        const report = await fuzzRpc(stack, {
          service: 'registry-service',
          method,
          allowed: documented,
          inputs: registryInputs[name],
          ...(write ? { around: registryUnchangedUnlessWritten(reader, name) } : {}),
          ...streaming[name],
        });
        const refused = [...report.statuses.keys()].filter((status) => status !== 'OK');
        expect(refused.length).toBeGreaterThan(0);
      },
      fuzzTimeoutMs,
    );
  }
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RetrainService } from '@scoregate/contracts';
import type { RpcError } from '@scoregate/rpc';
import {
  Code,
  createRpcClient,
  createRpcServer,
  type RpcClient,
  type RpcServer,
} from '@scoregate/rpc';
import { createRetrainHandlers } from './retrain-handlers.js';

let server: RpcServer;
let client: RpcClient<typeof RetrainService>;
beforeAll(async () => {
  server = createRpcServer({ name: 'retrain-test', logger: { info() {}, warn() {}, error() {} } });
  server.register(RetrainService, createRetrainHandlers());
  client = createRpcClient(RetrainService, {
    address: `127.0.0.1:${await server.listen('127.0.0.1:0')}`,
  });
});
afterAll(async () => {
  client.close();
  await server.shutdown({ drainDelayMs: 0 });
});

describe('retrain-service skeleton', () => {
  it('answers every RPC with UNIMPLEMENTED naming the method', async () => {
    const calls: [string, Promise<unknown>][] = [
      ['TriggerRetrain', client.triggerRetrain({})],
      ['GetRun', client.getRun({})],
      ['ListRuns', client.listRuns({})],
      ['PutPolicy', client.putPolicy({})],
      ['ListPolicies', client.listPolicies({})],
    ];
    expect(calls.map(([name]) => name).sort()).toEqual(
      RetrainService.methods.map((m) => m.name).sort(),
    );
    for (const [name, call] of calls) {
      const error = (await call.catch((e: unknown) => e)) as RpcError;
      expect(error.code).toBe(Code.UNIMPLEMENTED);
      expect(error.message).toContain(
        `scoregate.retrain.v1.RetrainService/${name} is not implemented yet`,
      );
    }
  });
});

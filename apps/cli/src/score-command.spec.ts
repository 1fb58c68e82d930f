import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ScoreService } from '@scoregate/contracts';
import { RpcError, createRpcServer, type RpcServer } from '@scoregate/rpc';
import { scoreOnce } from './score-command.js';

// A stand-in gateway: the CLI, not the gateway, is under test here.
let server: RpcServer;
let address: string;
beforeAll(async () => {
  server = createRpcServer({ name: 'cli-test', logger: { info() {}, warn() {}, error() {} } });
  server.register(ScoreService, {
    score: (request) => {
      if (request.scorer !== 'truck-roll-priority')
        throw RpcError.notFound(`scorer "${request.scorer}" not found`);
      return {
        score: 0.75,
        requestId: request.entityKeys.map((e) => `${e.entityType}/${e.key}`).join(','),
      };
    },
    scoreBatch: () => ({}),
  });
  address = `127.0.0.1:${await server.listen('127.0.0.1:0')}`;
});
afterAll(() => server.shutdown({ drainDelayMs: 0 }));

describe('scoregate score', () => {
  it('sends the entity keys given as type:key and prints the answer as JSON', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const code = await scoreOnce({
      address,
      scorer: 'truck-roll-priority',
      entities: ['customer:c-0001', 'site:s:1'],
      timeoutMs: 2000,
    });
    expect(code).toBe(0);
    expect(JSON.parse(log.mock.calls[0]?.[0] as string)).toEqual({
      score: 0.75,
      requestId: 'customer/c-0001,site/s:1',
    });
    log.mockRestore();
  });

  it('prints the status and message of a refused call and exits 1', async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const code = await scoreOnce({
      address,
      scorer: 'nope',
      entities: ['customer:c-0001'],
      timeoutMs: 2000,
    });
    expect(code).toBe(1);
    expect(error.mock.calls[0]?.[0]).toBe('error: NOT_FOUND scorer "nope" not found');
    error.mockRestore();
  });
});

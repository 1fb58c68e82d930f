import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ScoreService } from '@scoregate/contracts';
import { createRpcServer, type RpcServer } from '@scoregate/rpc';
import { checkServices } from './health-command.js';

// A server with health: the CLI, not the services, is under test here.
let server: RpcServer;
let address: string;
beforeAll(async () => {
  server = createRpcServer({ name: 'cli-test', logger: { info() {}, warn() {}, error() {} } });
  server.register(ScoreService, { score: () => ({}), scoreBatch: () => ({}) });
  address = `127.0.0.1:${await server.listen('127.0.0.1:0')}`;
});
afterAll(() => server.shutdown({ drainDelayMs: 0 }));

let printed: string[] = [];
afterEach(() => vi.restoreAllMocks());
const capture = () => {
  printed = [];
  vi.spyOn(console, 'log').mockImplementation((line: string) => void printed.push(line));
  vi.spyOn(console, 'error').mockImplementation((line: string) => void printed.push(line));
};

describe('scoregate health --address', () => {
  it('checks that one server as a whole and exits 0 when it is SERVING', async () => {
    capture();
    expect(await checkServices({ address })).toBe(0);
    expect(printed).toEqual([`(server)          ${address}  SERVING`]);
  });

  it('with --service, asks about that service', async () => {
    capture();
    expect(await checkServices({ address, service: ScoreService.typeName })).toBe(0);
    expect(printed).toEqual([`${ScoreService.typeName} ${address}  SERVING`]);
  });

  it('exits 1 and says so for a service the server does not have', async () => {
    capture();
    expect(await checkServices({ address, service: 'no.such.Service' })).toBe(1);
    expect(printed[0]).toContain('NOT_FOUND (the server has no service "no.such.Service")');
  });

  it('exits 1 when the server is NOT_SERVING, and 2 for --service without --address', async () => {
    capture();
    server.setServing(false);
    expect(await checkServices({ address })).toBe(1);
    expect(printed[0]).toContain('NOT_SERVING');
    server.setServing(true);
    expect(await checkServices({ service: ScoreService.typeName })).toBe(2);
    expect(printed[1]).toBe('error: --service needs --address (the server to ask)');
  });
});

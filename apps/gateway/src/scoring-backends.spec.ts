import { GRPCInferenceService } from '@scoregate/contracts';
import { createRpcServer, type RpcServer } from '@scoregate/rpc';
import { createLogger } from '@scoregate/telemetry';
import { afterAll, describe, expect, it } from 'vitest';
import {
  checkScoringTarget,
  createScoringBackends,
  parseScoringRoutes,
} from './scoring-backends.js';
import { modelInferOnly } from './testing/score-test-bed.test.js';

const logger = createLogger({ service: 'scoring-backends-test', level: 'error' });
const servers: RpcServer[] = [];

/** A scoring stand-in on real gRPC that answers ModelInfer with its own name as the version. */
async function replica(name: string): Promise<{ address: string; server: RpcServer }> {
  const server = createRpcServer({ name, logger });
  server.register(
    GRPCInferenceService,
    modelInferOnly((request) => ({ modelName: request.modelName, modelVersion: name })),
  );
  servers.push(server);
  return { address: `127.0.0.1:${await server.listen('127.0.0.1:0')}`, server };
}

afterAll(async () => {
  await Promise.all(servers.map((s) => s.shutdown({ graceMs: 100 }).catch(() => {})));
});

describe('scoring backends', () => {
  it('parses SCORING_ROUTES with ; between routes and , between replicas', () => {
    const routes = parseScoringRoutes(
      'gbt=ipv4:127.0.0.1:1,127.0.0.1:2; lite = dns:///scoring:50053',
    );
    expect([...routes]).toEqual([
      ['gbt', 'ipv4:127.0.0.1:1,127.0.0.1:2'],
      ['lite', 'dns:///scoring:50053'],
    ]);
    expect(() => parseScoringRoutes('gbt')).toThrow(/not model=address/);
    expect(() => parseScoringRoutes('a=h:1;a=h:2')).toThrow(/routed twice/);
    expect(() => checkScoringTarget('ipv4:127.0.0.1:1,nope')).toThrow(/SCORING_SERVICE_ADDRESS/);
    expect(checkScoringTarget('127.0.0.1:50053')).toBe('127.0.0.1:50053');
  });

  it('balances round-robin over the replicas of a target and routes a model to its own target', async () => {
    const [a, b, c] = await Promise.all([replica('a'), replica('b'), replica('c')]);
    const backends = createScoringBackends({
      defaultAddress: c.address,
      routes: `gbt=ipv4:${a.address},${b.address}`,
    });
    try {
      await backends.waitForReady(5_000);
      const seen = new Map<string, number>();
      for (let i = 0; i < 40; i++) {
        const reply = await backends
          .forModel('gbt')
          .client.modelInfer({ modelName: 'gbt' }, { timeoutMs: 2_000 });
        seen.set(reply.modelVersion, (seen.get(reply.modelVersion) ?? 0) + 1);
      }
      expect(seen.get('a')).toBeGreaterThanOrEqual(10);
      expect(seen.get('b')).toBeGreaterThanOrEqual(10);
      const other = await backends
        .forModel('lite')
        .client.modelInfer({ modelName: 'lite' }, { timeoutMs: 2_000 });
      expect(other.modelVersion).toBe('c');
    } finally {
      backends.close();
    }
  });

  it('keeps answering with 0 failed calls when one replica goes away', async () => {
    const [a, b] = await Promise.all([replica('a2'), replica('b2')]);
    const backends = createScoringBackends({ defaultAddress: `ipv4:${a.address},${b.address}` });
    try {
      await backends.waitForReady(5_000);
      const client = backends.forModel('any').client;
      let failed = 0;
      for (let i = 0; i < 200; i++) {
        if (i === 50) await a.server.shutdown({ graceMs: 0 });
        await client.modelInfer({ modelName: 'm' }, { timeoutMs: 2_000 }).catch(() => failed++);
      }
      expect(failed).toBe(0);
    } finally {
      backends.close();
    }
  });
});

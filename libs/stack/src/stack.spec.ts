import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkHealth } from '@scoregate/rpc';
import { SERVICES, freePort, startService, startStack } from './index.js';

describe('stack launcher', () => {
  it('knows the five services and their fixed default ports', () => {
    expect(Object.fromEntries(SERVICES.map((s) => [s.name, s.defaultPort]))).toEqual({
      gateway: 50051,
      'feature-service': 50052,
      'scoring-service': 50053,
      'registry-service': 50054,
      'retrain-service': 50055,
    });
  });

  it('finds a loopback port that can be bound', async () => {
    const port = await freePort();
    const server = createServer();
    await new Promise<void>((resolve, reject) =>
      server.once('error', reject).listen(port, '127.0.0.1', resolve),
    );
    server.close();
    expect(port).toBeGreaterThan(0);
  });

  it('refuses to start when the services are not built, saying what to do', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'scoregate-stack-'));
    await expect(startStack({ root: empty, ports: { gateway: 0 } })).rejects.toThrow(
      /apps\/registry-service\/dist\/main\.js does not exist: build first/,
    );
  });
});

describe('startService', () => {
  const dataDir = () => mkdtempSync(join(tmpdir(), 'scoregate-service-'));

  it('starts one service on a free port and resolves once it is SERVING', async () => {
    const lines: string[] = [];
    const registry = await startService({
      name: 'registry-service',
      port: 0,
      env: { REGISTRY_DATA_DIR: dataDir(), REGISTRY_KAFKA_BROKERS: '', LOG_LEVEL: 'info' },
      onOutput: (line) => lines.push(line),
    });
    try {
      expect(registry.address).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(await checkHealth(registry.address)).toBe('SERVING');
      expect(lines.length).toBeGreaterThan(0);
    } finally {
      registry.process.kill('SIGTERM');
      expect(await registry.exited).toBe(0);
    }
  }, 60_000);

  it('rejects with the exit code and what the service printed when it cannot start', async () => {
    await expect(
      startService({
        name: 'registry-service',
        port: 0,
        env: { REGISTRY_DATA_DIR: dataDir(), REGISTRY_WATCH_POLL_MS: 'soon' },
      }),
    ).rejects.toThrow(
      /registry-service exited \(78\) before it was SERVING[^]*REGISTRY_WATCH_POLL_MS/,
    );
  }, 60_000);
});

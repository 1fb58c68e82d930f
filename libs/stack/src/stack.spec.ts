import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SERVICES, freePort, startStack } from './index.js';

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

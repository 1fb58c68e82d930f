import { createConnection } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startPrivateRedis, type PrivateRedis } from './index.js';

const servers: PrivateRedis[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.dispose();
});

/** One RESP command over a fresh socket: the first reply line, or `timeout` after `ms`. */
function command(port: number, parts: string[], ms = 1_000): Promise<string> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (value: string) => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(ms, () => done('timeout'));
    socket.once('error', (error) => done(`error ${error.message}`));
    socket.once('connect', () =>
      socket.write(`*${parts.length}\r\n${parts.map((p) => `$${p.length}\r\n${p}\r\n`).join('')}`),
    );
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString();
      if (!reply.includes('\r\n')) return;
      const [first = '', second] = reply.split('\r\n');
      // A bulk string ($n, not the nil $-1) carries its value on the second line.
      const bulk = first.startsWith('$') && first !== '$-1';
      if (!bulk) done(first);
      else if (second !== undefined && reply.split('\r\n').length >= 3) done(second);
    });
  });
}

describe('startPrivateRedis', () => {
  it('serves on its own port; a persistent one keeps its data across SIGKILL and restart', async () => {
    const redis = await startPrivateRedis({ persistent: true });
    servers.push(redis);
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(await command(redis.port, ['SET', 'k', 'v1'])).toBe('+OK');
    await redis.stop();
    expect(await command(redis.port, ['PING'])).toMatch(/^error .*ECONNREFUSED/);
    await redis.start();
    expect(await command(redis.port, ['GET', 'k'])).toBe('v1');
  });

  it('forgets its data across a restart when not persistent', async () => {
    const redis = await startPrivateRedis();
    servers.push(redis);
    expect(await command(redis.port, ['SET', 'k', 'v1'])).toBe('+OK');
    await redis.stop();
    await redis.start();
    expect(await command(redis.port, ['GET', 'k'])).toBe('$-1');
  });

  it('pause freezes it (connections open, no answer) and resume lets it answer again', async () => {
    const redis = await startPrivateRedis();
    servers.push(redis);
    redis.pause();
    expect(await command(redis.port, ['PING'], 300)).toBe('timeout');
    redis.resume();
    expect(await command(redis.port, ['PING'])).toBe('+PONG');
  });
});

import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { setting, uniqueSuffix, withTimeout } from './support.js';

const REDIS_URL = setting('REDIS_URL', 'redis://127.0.0.1:6379');

describe(`redis at ${REDIS_URL}`, () => {
  it('round-trips a value with SET and GET', async () => {
    const client = new Redis(REDIS_URL, {
      lazyConnect: true,
      connectTimeout: 5_000,
      commandTimeout: 5_000,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      // Never reconnect: an unreachable server must fail the test, not hang it.
      retryStrategy: () => null,
    });
    let lastError: Error | undefined;
    client.on('error', (err: Error) => {
      // Remember it for the failure message instead of an unhandled 'error' event.
      lastError = err;
    });
    try {
      await withTimeout(client.connect(), 10_000, `connecting to ${REDIS_URL}`).catch(
        (err: unknown) => {
          const reason = lastError?.message ?? (err instanceof Error ? err.message : String(err));
          throw new Error(
            `cannot connect to Redis at ${REDIS_URL} (start it with tools/infra/up.sh redis): ${reason}`,
            {
              cause: err,
            },
          );
        },
      );
      const key = `scoregate:infra-smoke:${uniqueSuffix()}`;
      const value = `value-${uniqueSuffix()}`;
      expect(await client.set(key, value, 'EX', 60)).toBe('OK');
      expect(await client.get(key)).toBe(value);
      expect(await client.del(key)).toBe(1);
      await client.quit();
    } finally {
      client.disconnect();
    }
  });
});

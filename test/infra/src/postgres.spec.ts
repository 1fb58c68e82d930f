import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { setting, withTimeout } from './support.js';

const DATABASE_URL = setting(
  'DATABASE_URL',
  'postgres://scoregate:scoregate@127.0.0.1:5432/scoregate',
);

describe(`postgres at ${DATABASE_URL.replace(/:[^:@/]*@/, ':***@')}`, () => {
  it('answers SELECT 1 as the scoregate role', async () => {
    const client = new pg.Client({
      connectionString: DATABASE_URL,
      connectionTimeoutMillis: 5_000,
      query_timeout: 10_000,
      statement_timeout: 10_000,
    });
    client.on('error', () => {
      // Connection errors surface through the rejected promises below.
    });
    try {
      await withTimeout(client.connect(), 10_000, 'connecting to PostgreSQL');
      const result = await client.query<{ one: number; who: string; db: string }>(
        'SELECT 1 AS one, current_user AS who, current_database() AS db',
      );
      expect(result.rows).toEqual([{ one: 1, who: 'scoregate', db: 'scoregate' }]);
    } finally {
      await withTimeout(client.end(), 5_000, 'closing the PostgreSQL connection').catch(
        () => undefined,
      );
    }
  });
});

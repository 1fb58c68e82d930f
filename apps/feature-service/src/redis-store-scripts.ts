import type { Redis, Result } from 'ioredis';

/**
 * The conditional write, run atomically inside Redis (one EVALSHA per chunk of rows, cached by
 * ioredis `defineCommand`). Because the check of the stored event time and the write happen in
 * one script, concurrent writers and replays can never put an older row over a newer one.
 *
 * KEYS[k] = the hash of row k. ARGV[1] = now (epoch ms, the service's clock, the same clock that
 * reads use for freshness), then for each row:
 *   view, event time (epoch ms, decimal), ttl (ms, or -1 for none), nSet, nDel,
 *   nSet × (field, encoded value), nDel × field.
 * Returns { applied, skippedOlder }.
 *
 * Per row:
 * - the stored `_ts:<view>` counts only while the view's row is live (younger than its ttl), as in
 *   the in-memory store; a live stored row with a NEWER event time skips the row; an EQUAL event
 *   time overwrites (the proto's choice: writes are idempotent, so a replay is harmless);
 * - a stored row past its ttl (kept alive in the hash by another view) is cleared first, so its
 *   old values cannot come back stamped with the new event time;
 * - expiry of the hash = max over the views written of (event time + ttl); a view without ttl
 *   makes the hash persistent. The expiry only reclaims memory: reads decide MISSING from the
 *   event time, so clock skew between Redis and the service cannot make a value look fresh.
 *
 * Numbers go back to Redis through string.format('%.0f'): Lua 5.1 would print 15-digit epoch
 * milliseconds in exponent notation, which PEXPIREAT refuses.
 */
export const WRITE_ROWS_LUA = `
local now = tonumber(ARGV[1])
local a = 2
local applied, skipped = 0, 0
for k = 1, #KEYS do
  local key = KEYS[k]
  local view = ARGV[a]
  local tsText = ARGV[a + 1]
  local ts = tonumber(tsText)
  local ttl = tonumber(ARGV[a + 2])
  local nset = tonumber(ARGV[a + 3])
  local ndel = tonumber(ARGV[a + 4])
  a = a + 5
  local tsField = '_ts:' .. view
  local storedText = redis.call('HGET', key, tsField)
  local stored = storedText and tonumber(storedText)
  local live = stored and (ttl < 0 or now - stored <= ttl)
  if live and stored > ts then
    skipped = skipped + 1
  else
    if stored and not live then
      local prefix = view .. ':'
      for _, field in ipairs(redis.call('HKEYS', key)) do
        if string.sub(field, 1, #prefix) == prefix then redis.call('HDEL', key, field) end
      end
    end
    local before = redis.call('PEXPIRETIME', key)
    local args = { tsField, tsText }
    for i = 0, nset - 1 do
      args[#args + 1] = ARGV[a + 2 * i]
      args[#args + 1] = ARGV[a + 2 * i + 1]
    end
    redis.call('HSET', key, unpack(args))
    if ndel > 0 then
      local fields = {}
      for i = 0, ndel - 1 do fields[#fields + 1] = ARGV[a + 2 * nset + i] end
      redis.call('HDEL', key, unpack(fields))
    end
    if ttl < 0 then
      if before >= 0 then redis.call('PERSIST', key) end
    else
      local target = ts + ttl
      if before == -2 then
        if target <= now then
          redis.call('DEL', key)
        else
          redis.call('PEXPIREAT', key, string.format('%.0f', target))
        end
      elseif before >= 0 and before < target then
        redis.call('PEXPIREAT', key, string.format('%.0f', target))
      end
    end
    applied = applied + 1
  end
  a = a + 2 * nset + ndel
end
return { applied, skipped }
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    scoregateWriteRows(
      numKeys: number,
      ...keysAndArgs: (string | Buffer)[]
    ): Result<[number, number], Context>;
  }
}

/** Makes `redis.scoregateWriteRows(…)` run WRITE_ROWS_LUA. */
export function defineWriteRowsScript(redis: Redis): void {
  redis.defineCommand('scoregateWriteRows', { lua: WRITE_ROWS_LUA });
}

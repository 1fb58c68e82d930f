import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { hedge, HedgeFailedError, type HedgeAttempt } from './hedge.js';

function attempt(ms: number, value: string, hedgeAfterMs?: number, fails = false) {
  const state = { started: 0, aborted: false };
  const a: HedgeAttempt<string> = {
    hedgeAfterMs,
    run: async (signal) => {
      state.started = performance.now();
      try {
        await sleep(ms, undefined, { signal });
      } catch (error) {
        state.aborted = true;
        throw error;
      }
      if (fails) throw new Error(`${value} failed`);
      return value;
    },
  };
  return { a, state };
}

describe('hedge', () => {
  it('does not start the second attempt when the first answers before its hedge delay', async () => {
    const first = attempt(5, 'first', 50);
    const second = attempt(5, 'second');
    const out = await hedge((i) => [first.a, second.a][i]);
    expect(out).toMatchObject({ value: 'first', winner: 0, started: 1, hedged: [] });
    expect(second.state.started).toBe(0);
  });

  it('starts the next attempt after the hedge delay, not at once, and cancels the loser', async () => {
    const t0 = performance.now();
    const slow = attempt(1_000, 'slow', 30);
    const fast = attempt(5, 'fast');
    const out = await hedge((i) => [slow.a, fast.a][i]);
    expect(out).toMatchObject({ value: 'fast', winner: 1, started: 2, hedged: [1] });
    expect(fast.state.started - t0).toBeGreaterThanOrEqual(29);
    expect(performance.now() - t0).toBeLessThan(500);
    await sleep(5);
    expect(slow.state.aborted).toBe(true);
  });

  it('moves on at once when an attempt fails, and reports every failure when all fail', async () => {
    const t0 = performance.now();
    const a = attempt(1, 'a', 1_000, true);
    const b = attempt(1, 'b', 1_000, true);
    const error = await hedge((i) => [a.a, b.a][i]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HedgeFailedError);
    expect((error as HedgeFailedError).errors.size).toBe(2);
    expect(performance.now() - t0).toBeLessThan(200);
  });

  it('cancels every running attempt when the caller aborts', async () => {
    const slow = attempt(1_000, 'slow', 5);
    const slower = attempt(1_000, 'slower');
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('caller gave up')), 30);
    await expect(hedge((i) => [slow.a, slower.a][i], controller.signal)).rejects.toThrow(
      'caller gave up',
    );
    await sleep(5);
    expect(slow.state.aborted && slower.state.aborted).toBe(true);
  });
});

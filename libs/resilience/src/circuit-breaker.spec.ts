import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { CircuitBreakers, CircuitOpenError } from './circuit-breaker.js';

const fail = () => Promise.reject(new Error('boom'));
const ok = () => Promise.resolve('ok');

describe('CircuitBreakers', () => {
  let breakers: CircuitBreakers;
  afterEach(() => breakers.shutdown());

  it('opens a circuit on its error rate, refusing calls without making them', async () => {
    breakers = new CircuitBreakers({ volumeThreshold: 5, resetTimeoutMs: 10_000 });
    for (let i = 0; i < 5; i++) await expect(breakers.run('m@a', fail)).rejects.toThrow('boom');
    expect(breakers.state('m@a')).toBe('open');
    expect(breakers.allows('m@a')).toBe(false);
    let called = false;
    await expect(
      breakers.run('m@a', () => {
        called = true;
        return ok();
      }),
    ).rejects.toBeInstanceOf(CircuitOpenError);
    expect(called).toBe(false);
    // Another key is not affected.
    await expect(breakers.run('m@b', ok)).resolves.toBe('ok');
  });

  it('lets a probe through after the reset time and closes when it succeeds', async () => {
    breakers = new CircuitBreakers({ volumeThreshold: 3, resetTimeoutMs: 100 });
    for (let i = 0; i < 3; i++) await expect(breakers.run('m@a', fail)).rejects.toThrow();
    expect(breakers.state('m@a')).toBe('open');
    await sleep(150);
    expect(breakers.state('m@a')).toBe('half-open');
    expect(breakers.allows('m@a')).toBe(true);
    await expect(breakers.run('m@a', ok)).resolves.toBe('ok');
    expect(breakers.state('m@a')).toBe('closed');
  });

  it('does not count errors the filter says are not failures', async () => {
    breakers = new CircuitBreakers({
      volumeThreshold: 3,
      isFailure: (e) => (e as Error).message !== 'cancelled',
    });
    for (let i = 0; i < 10; i++)
      await expect(
        breakers.run('m@a', () => Promise.reject(new Error('cancelled'))),
      ).rejects.toThrow();
    expect(breakers.state('m@a')).toBe('closed');
  });

  it('opens after failures in a row, however many successes the window holds', async () => {
    breakers = new CircuitBreakers({ consecutiveFailures: 3, resetTimeoutMs: 10_000 });
    for (let i = 0; i < 100; i++) await breakers.run('m@a', ok);
    for (let i = 0; i < 2; i++) await expect(breakers.run('m@a', fail)).rejects.toThrow('boom');
    // A success in between starts the count again.
    await breakers.run('m@a', ok);
    for (let i = 0; i < 2; i++) await expect(breakers.run('m@a', fail)).rejects.toThrow('boom');
    expect(breakers.state('m@a')).toBe('closed');
    await expect(breakers.run('m@a', fail)).rejects.toThrow('boom');
    expect(breakers.state('m@a')).toBe('open');
    await expect(breakers.run('m@a', ok)).rejects.toBeInstanceOf(CircuitOpenError);
  });

  it('does not count errors the filter excludes towards failures in a row', async () => {
    breakers = new CircuitBreakers({
      consecutiveFailures: 2,
      isFailure: (e) => (e as Error).message !== 'cancelled',
    });
    await expect(breakers.run('m@a', fail)).rejects.toThrow('boom');
    for (let i = 0; i < 5; i++)
      await expect(
        breakers.run('m@a', () => Promise.reject(new Error('cancelled'))),
      ).rejects.toThrow();
    expect(breakers.state('m@a')).toBe('closed');
    await expect(breakers.run('m@a', fail)).rejects.toThrow('boom');
    expect(breakers.state('m@a')).toBe('open');
  });
});

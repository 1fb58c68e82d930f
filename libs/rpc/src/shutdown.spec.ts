import { afterEach, describe, expect, it, vi } from 'vitest';
import { drainOnSignals } from './shutdown.js';

const silent = { info: () => {}, warn: () => {}, error: () => {} };

describe('drainOnSignals', () => {
  const exits: number[] = [];
  let listeners: { SIGINT: NodeJS.SignalsListener[]; SIGTERM: NodeJS.SignalsListener[] };

  const install = (drain: () => Promise<void>) => {
    listeners = { SIGINT: process.listeners('SIGINT'), SIGTERM: process.listeners('SIGTERM') };
    vi.spyOn(process, 'exit').mockImplementation(((code: number) => {
      exits.push(code);
    }) as never);
    drainOnSignals({ logger: silent, drain });
  };
  const settle = () => new Promise((resolve) => setImmediate(resolve));

  afterEach(() => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      for (const listener of process.listeners(signal))
        if (!listeners[signal].includes(listener)) process.off(signal, listener);
    }
    vi.restoreAllMocks();
    exits.length = 0;
  });

  it('drains once and exits 0 when SIGINT (a terminal) and SIGTERM (a launcher) both arrive', async () => {
    let drains = 0;
    let finish!: () => void;
    install(() => {
      drains++;
      return new Promise<void>((resolve) => (finish = resolve));
    });
    process.emit('SIGINT', 'SIGINT');
    process.emit('SIGTERM', 'SIGTERM');
    await settle();
    expect(exits).toEqual([]);
    finish();
    await settle();
    expect(drains).toBe(1);
    expect(exits).toEqual([0]);
  });

  it('exits 1 at once when the same signal comes a second time during the drain', async () => {
    install(() => new Promise<void>(() => {}));
    process.emit('SIGTERM', 'SIGTERM');
    await settle();
    expect(exits).toEqual([]);
    process.emit('SIGTERM', 'SIGTERM');
    expect(exits).toEqual([1]);
  });

  it('exits 1 when the drain fails', async () => {
    install(() => Promise.reject(new Error('store would not close')));
    process.emit('SIGINT', 'SIGINT');
    await settle();
    expect(exits).toEqual([1]);
  });
});

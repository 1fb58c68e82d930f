import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { durationFromMs } from '@bufbuild/protobuf/wkt';
import { ScoreService } from '@scoregate/contracts';
import { createRpcClient, watchHealth } from '@scoregate/rpc';
import { sleep, startE2eStack, type E2eStack } from './stack-fixture.js';

let stack: E2eStack;
beforeAll(async () => {
  stack = await startE2eStack();
});
afterAll(async () => {
  const scoring = stack?.services['scoring-service'].process;
  scoring?.kill('SIGCONT');
  await stack?.stop();
});

describe('SIGTERM with calls in flight', () => {
  it('turns health NOT_SERVING first, completes the in-flight calls OK, and exits 0', async () => {
    const gateway = stack.services.gateway;
    const scoring = stack.services['scoring-service'].process;
    const client = createRpcClient(ScoreService, {
      address: gateway.address,
      defaultTimeoutMs: 10_000,
    });
    await client.score({
      scorer: 'truck-roll-priority',
      entityKeys: [{ entityType: 'customer', key: 'c-0001' }],
    });

    const events: string[] = [];
    const watch = watchHealth(gateway.address, (status) => events.push(`health:${status}`));
    await sleep(200);
    // Hold inference so that the calls below are still in flight when SIGTERM arrives.
    scoring.kill('SIGSTOP');
    const calls = ['c-0001', 'c-0002', 'c-0003', 'c-0004'].map((key) =>
      client
        .score({
          scorer: 'truck-roll-priority',
          entityKeys: [{ entityType: 'customer', key }],
          budget: durationFromMs(4000),
        })
        .then((reply) => {
          events.push('call:ok');
          return reply;
        }),
    );
    await sleep(300);
    gateway.process.kill('SIGTERM');
    await sleep(500);
    events.push('resume-scoring');
    scoring.kill('SIGCONT');

    const replies = await Promise.all(calls);
    const exitCode = await gateway.exited;
    watch.stop();
    client.close();

    expect(exitCode).toBe(0);
    expect(replies.map((r) => r.servedBy?.model)).toEqual(Array(4).fill('truck-roll-gbt'));
    expect(replies.every((r) => !r.degraded)).toBe(true);
    expect(events[0]).toBe('health:SERVING');
    // NOT_SERVING was announced while every call was still waiting on inference.
    expect(events.indexOf('health:NOT_SERVING')).toBeGreaterThan(0);
    expect(events.indexOf('health:NOT_SERVING')).toBeLessThan(events.indexOf('resume-scoring'));
    expect(events.indexOf('resume-scoring')).toBeLessThan(events.indexOf('call:ok'));
  });
});

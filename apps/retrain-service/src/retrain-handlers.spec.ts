import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { RetrainService } from '@scoregate/contracts';
import type { RpcError } from '@scoregate/rpc';
import {
  Code,
  createRpcClient,
  createRpcServer,
  type RpcClient,
  type RpcServer,
} from '@scoregate/rpc';
import { installTelemetryForTests } from '@scoregate/telemetry/testing';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { OutcomeObservedSchema } from '@scoregate/contracts';
import { LabeledExampleStore } from './join/labeled-example-store.js';
import { outcomeClockCheck, outcomeClockSkewGuard } from './join/outcome-clock.js';
import { createRetrainHandlers } from './retrain-handlers.js';

const telemetry = installTelemetryForTests();
const NOW = Date.UTC(2026, 11, 8, 12);
let dir: string;
let store: LabeledExampleStore;
let server: RpcServer;
let client: RpcClient<typeof RetrainService>;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'retrain-handlers-'));
  store = new LabeledExampleStore({ file: join(dir, 'labels.sqlite'), joinWindowMs: 86_400_000 });
  const guard = outcomeClockSkewGuard({ toleranceMs: 5_000, now: () => NOW });
  server = createRpcServer({ name: 'retrain-test', logger: { info() {}, warn() {}, error() {} } });
  server.register(
    RetrainService,
    createRetrainHandlers({ store, checkOutcomeClock: outcomeClockCheck(guard, 'rpc') }),
  );
  client = createRpcClient(RetrainService, {
    address: `127.0.0.1:${await server.listen('127.0.0.1:0')}`,
  });
});
afterAll(async () => {
  client.close();
  await server.shutdown({ drainDelayMs: 0 });
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

type OutcomeInit = MessageInitShape<typeof OutcomeObservedSchema>;
function outcome(requestId: string, label: number, extra: Partial<OutcomeInit> = {}): OutcomeInit {
  return {
    requestId,
    label,
    observedAt: timestampFromMs(NOW - 60_000),
    entityKey: { entityType: 'site', key: 's-1' },
    scorer: 'truck-roll',
    source: 'labels-app',
    ...extra,
  } as OutcomeInit;
}

async function refusal(call: Promise<unknown>): Promise<RpcError> {
  return (await call.then(
    () => expect.fail('the call was expected to fail'),
    (e: unknown) => e,
  )) as RpcError;
}

describe('retrain-service runs and policies', () => {
  it('answer UNIMPLEMENTED naming the method', async () => {
    const calls: [string, Promise<unknown>][] = [
      ['TriggerRetrain', client.triggerRetrain({})],
      ['GetRun', client.getRun({})],
      ['ListRuns', client.listRuns({})],
      ['PutPolicy', client.putPolicy({})],
      ['ListPolicies', client.listPolicies({})],
    ];
    for (const [name, call] of calls) {
      const error = await refusal(call);
      expect(error.code).toBe(Code.UNIMPLEMENTED);
      expect(error.message).toContain(
        `scoregate.retrain.v1.RetrainService/${name} is not implemented yet`,
      );
    }
  });
});

describe('RecordOutcomes', () => {
  it('stores new outcomes, counts a retry as duplicates and another label as a conflict', async () => {
    const first = await client.recordOutcomes({
      outcomes: [outcome('rpc-1', 1), outcome('rpc-2', 0, { batchIndex: 3 })],
    });
    expect(first).toMatchObject({ recorded: 2, duplicates: 0, conflicts: 0, joined: 0 });
    const retry = await client.recordOutcomes({
      outcomes: [outcome('rpc-1', 1), outcome('rpc-2', 1, { batchIndex: 3 })],
    });
    expect(retry).toMatchObject({ recorded: 0, duplicates: 1, conflicts: 1 });
    const status = await client.getJoinStatus({});
    expect(status.counts).toMatchObject({
      outcomes: 2n,
      pendingOutcomes: 2n,
      duplicateOutcomes: 1n,
      conflictingOutcomes: 1n,
    });
    expect(status.store).toBe(store.file);
    expect(status.joinWindow?.seconds).toBe(86_400n);
  });

  it.each([
    [[], 'outcomes', 'at least one outcome is required'],
    [
      [outcome('ok', 1), outcome('nan', Number.NaN)],
      'outcomes[1].label',
      'must be a finite number, got NaN',
    ],
    [[outcome('inf', Number.POSITIVE_INFINITY)], 'outcomes[0].label', 'must be a finite number'],
    [[outcome('', 1)], 'outcomes[0].request_id', 'is required'],
    [[outcome('x'.repeat(129), 1)], 'outcomes[0].request_id', 'is 129 bytes; at most 128'],
    [[outcome('no-time', 1, { observedAt: undefined })], 'outcomes[0].observed_at', 'is required'],
    [[outcome('src', 1, { source: 's'.repeat(129) })], 'outcomes[0].source', 'at most 128'],
  ] as [OutcomeInit[], string, string][])(
    'refuses a request whole with INVALID_ARGUMENT naming %#: %s',
    async (outcomes, field, description) => {
      const before = store.counts();
      const error = await refusal(client.recordOutcomes({ outcomes }));
      expect(error.code).toBe(Code.INVALID_ARGUMENT);
      expect(error.message).toBe(`${field}: ${error.violations[0]?.description}`);
      expect(error.violations[0]?.field).toBe(field);
      expect(error.violations[0]?.description).toContain(description);
      expect(store.counts()).toEqual(before);
    },
  );

  it('refuses more than 10,000 outcomes in one call', async () => {
    const outcomes = Array.from({ length: 10_001 }, (_, i) => outcome(`many-${i}`, 0));
    const error = await refusal(client.recordOutcomes({ outcomes }));
    expect(error.code).toBe(Code.INVALID_ARGUMENT);
    expect(error.message).toContain('outcomes: 10001 outcomes; at most 10000 per call');
  });

  it('refuses an outcome observed ahead of the clock, naming the field, the skew and the source, and counts it', async () => {
    const before = store.counts();
    const error = await refusal(
      client.recordOutcomes({
        outcomes: [
          outcome('on-time', 1),
          outcome('future', 1, {
            observedAt: timestampFromMs(NOW + 3_600_000),
          }),
        ],
      }),
    );
    expect(error.code).toBe(Code.INVALID_ARGUMENT);
    expect(error.message).toBe(
      `outcomes[1].observed_at: is 1 h 0 min ahead of the retrain-service's clock (tolerance 5.0 s): an outcome stamped in the future would count in quality windows it does not belong to; check the clock of source "labels-app" (NTP)`,
    );
    expect(store.counts()).toEqual(before);
    const refused = await telemetry.collect('scoregate.outcome.clock_skew.refused');
    expect(refused).toEqual([
      expect.objectContaining({ value: 1, attributes: { source: 'labels-app', path: 'rpc' } }),
    ]);
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { DegradationReason, PredictionLoggedSchema } from '@scoregate/contracts';
import { seededRandom } from '@scoregate/test-servers';
import { predictionInput, type OutcomeInput, type PredictionInput } from './join-inputs.js';
import { LabeledExampleStore } from './labeled-example-store.js';
import { registerJoinMetrics } from './join-metrics.js';
import { installTelemetryForTests } from '@scoregate/telemetry/testing';

const HOUR = 3_600_000;
const telemetry = installTelemetryForTests();
const dirs: string[] = [];
let clock = Date.UTC(2026, 11, 8);
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function openStore(file?: string): LabeledExampleStore {
  if (file === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'labels-'));
    dirs.push(dir);
    file = join(dir, 'labels.sqlite');
  }
  return new LabeledExampleStore({ file, joinWindowMs: 24 * HOUR, now: () => clock });
}

function prediction(requestId: string, batchIndex = 0, shadow = false): PredictionInput {
  return predictionInput(
    create(PredictionLoggedSchema, {
      requestId,
      batchIndex,
      shadow,
      scorer: 'truck-roll',
      entityKeys: [{ entityType: 'site', key: `s-${requestId}` }],
      servedBy: { model: shadow ? 'truck-roll-next' : 'truck-roll-gbt', version: '3' },
      features: [
        { ref: 'site_stats:signal_snr_db', value: { kind: { case: 'doubleValue', value: 12.5 } } },
        { ref: 'site_stats:tenure_months', missing: true },
        {
          ref: 'site_stats:plan',
          value: { kind: { case: 'stringValue', value: 'fiber' } },
          stale: true,
          defaulted: true,
        },
        { ref: 'site_stats:visits', value: { kind: { case: 'int64Value', value: 7n } } },
      ],
      outputs: [{ name: 'probabilities', values: [0.7, 0.3] }],
      score: 0.3,
      degraded: true,
      reasons: [DegradationReason.FEATURES_MISSING],
      loggedAt: timestampFromMs(clock - 1000),
      traceId: 'ab'.repeat(16),
      tenant: 'ops',
    }),
  );
}

function outcome(requestId: string, label: number, batchIndex = 0): OutcomeInput {
  return {
    requestId,
    batchIndex,
    label,
    observedAtMs: clock,
    entityType: 'site',
    entityKey: `s-${requestId}`,
    scorer: 'truck-roll',
    source: 'labels-test',
  };
}

describe('LabeledExampleStore', () => {
  it('joins an outcome that arrives after its prediction into one labelled example row', () => {
    const store = openStore();
    expect(store.apply({ predictions: [prediction('r1')] })).toEqual({
      recorded: 1,
      duplicates: 0,
      conflicts: 0,
      joined: 0,
    });
    expect(store.apply({ outcomes: [outcome('r1', 1)] })).toMatchObject({ recorded: 1, joined: 1 });
    const [row] = store.examples();
    expect(row).toMatchObject({
      request_id: 'r1',
      batch_index: 0,
      shadow: 0,
      model: 'truck-roll-gbt',
      version: '3',
      scorer: 'truck-roll',
      entity_type: 'site',
      entity_key: 's-r1',
      score: 0.3,
      degraded: 1,
      label: 1,
      observed_at_ms: clock,
      predicted_at_ms: clock - 1000,
      trace_id: 'ab'.repeat(16),
      tenant: 'ops',
    });
    expect(JSON.parse(row!.features)).toEqual({
      'site_stats:signal_snr_db': 12.5,
      'site_stats:tenure_months': null,
      'site_stats:plan': 'fiber',
      'site_stats:visits': 7,
    });
    expect(Object.keys(JSON.parse(row!.features))).toEqual([
      'site_stats:signal_snr_db',
      'site_stats:tenure_months',
      'site_stats:plan',
      'site_stats:visits',
    ]);
    expect(JSON.parse(row!.feature_flags)).toEqual({
      'site_stats:tenure_months': ['missing'],
      'site_stats:plan': ['stale', 'defaulted'],
    });
    expect(JSON.parse(row!.outputs)).toEqual([{ name: 'probabilities', values: [0.7, 0.3] }]);
    expect(JSON.parse(row!.reasons)).toEqual(['FEATURES_MISSING']);
    expect(store.counts()).toMatchObject({
      predictions: 1,
      outcomes: 1,
      labeledExamples: 1,
      pendingPredictions: 0,
      pendingOutcomes: 0,
    });
    store.close();
  });

  it('joins an outcome that arrives first, and keeps shadow predictions apart from served ones', () => {
    const store = openStore();
    store.apply({ outcomes: [outcome('r2', 0)] });
    expect(store.counts()).toMatchObject({ pendingOutcomes: 1, labeledExamples: 0 });
    store.apply({ predictions: [prediction('r2'), prediction('r2', 0, true)] });
    expect(store.examples({ shadow: false }).map((r) => r.model)).toEqual(['truck-roll-gbt']);
    expect(store.examples({ shadow: true }).map((r) => r.model)).toEqual(['truck-roll-next']);
    expect(store.counts()).toMatchObject({
      predictions: 1,
      shadowPredictions: 1,
      labeledExamples: 1,
      shadowLabeledExamples: 1,
      pendingOutcomes: 0,
    });
    store.close();
  });

  it('joins a shadow prediction that arrives after its item was joined and its outcome left the waits', () => {
    const store = openStore();
    store.apply({ predictions: [prediction('late-shadow')] });
    store.apply({ outcomes: [outcome('late-shadow', 1)] });
    expect(store.counts()).toMatchObject({ labeledExamples: 1, pendingOutcomes: 0 });
    expect(store.apply({ predictions: [prediction('late-shadow', 0, true)] })).toMatchObject({
      recorded: 1,
      joined: 1,
    });
    expect(store.examples({ shadow: true }).map((r) => [r.request_id, r.label])).toEqual([
      ['late-shadow', 1],
    ]);
    store.close();
  });

  it('counts a second delivery once, and a second label for the same item as a conflict', () => {
    const store = openStore();
    store.apply({ predictions: [prediction('r3', 2)], outcomes: [outcome('r3', 1, 2)] });
    const again = store.apply({
      predictions: [prediction('r3', 2)],
      outcomes: [outcome('r3', 1, 2), outcome('r3', 0, 2)],
    });
    expect(again).toEqual({ recorded: 0, duplicates: 2, conflicts: 1, joined: 0 });
    expect(store.examples().map((r) => [r.request_id, r.batch_index, r.label])).toEqual([
      ['r3', 2, 1],
    ]);
    expect(store.counts()).toMatchObject({
      duplicatePredictions: 1,
      duplicateOutcomes: 1,
      conflictingOutcomes: 1,
    });
    store.close();
  });

  it('expires what waited longer than the join window, counting it, and recognises late duplicates', () => {
    const store = openStore();
    store.apply({ predictions: [prediction('lonely-p'), prediction('joined')] });
    store.apply({ outcomes: [outcome('lonely-o', 1), outcome('joined', 0)] });
    clock += 24 * HOUR - 1;
    expect(store.expire()).toEqual({ predictions: 0, outcomes: 0 });
    clock += 2;
    expect(store.expire()).toEqual({ predictions: 1, outcomes: 1 });
    expect(store.counts()).toMatchObject({
      expiredPredictions: 1,
      expiredOutcomes: 1,
      pendingPredictions: 0,
      pendingOutcomes: 0,
      labeledExamples: 1,
    });
    // The joined item's outcome row is gone, but its labelled example still identifies it.
    expect(store.apply({ outcomes: [outcome('joined', 0)] })).toMatchObject({ duplicates: 1 });
    store.close();
  });

  it('keeps rows, counts and stream positions across a reopen, and applies them in one transaction', () => {
    const store = openStore();
    const file = store.file;
    store.apply({ predictions: [prediction('p1')] }, [{ stream: 'kafka:t/0', next: 41n }]);
    expect(() =>
      store.apply(
        // The second event is not a valid row (NaN label is NOT NULL-safe but a string id is not).
        {
          predictions: [prediction('p2')],
          outcomes: [{ ...outcome('p1', 1), requestId: null as never }],
        },
        [{ stream: 'kafka:t/0', next: 99n }],
      ),
    ).toThrow();
    store.close();
    const reopened = openStore(file);
    expect(reopened.position('kafka:t/0')).toBe(41n);
    expect(reopened.position('kafka:t/1')).toBeUndefined();
    expect(reopened.counts()).toMatchObject({ predictions: 1, pendingPredictions: 1 });
    reopened.close();
  });

  it('matches an independent count on 5,000 shuffled items with duplicates and either order (seeded)', () => {
    const store = openStore();
    const rand = seededRandom(20261208);
    const items = Array.from({ length: 5_000 }, (_, i) => ({
      id: `req-${i}`,
      batchIndex: i % 3,
      hasOutcome: rand() < 0.9,
      label: rand() < 0.3 ? 1 : 0,
    }));
    const orphanOutcomes = Array.from({ length: 200 }, (_, i) => `orphan-${i}`);
    type Event =
      | { kind: 'p'; item: (typeof items)[number] }
      | { kind: 'o'; id: string; batchIndex: number; label: number };
    const events: Event[] = [];
    for (const item of items) {
      events.push({ kind: 'p', item });
      if (item.hasOutcome)
        events.push({ kind: 'o', id: item.id, batchIndex: item.batchIndex, label: item.label });
    }
    for (const id of orphanOutcomes) events.push({ kind: 'o', id, batchIndex: 0, label: 1 });
    const duplicates = events.filter(() => rand() < 0.1);
    events.push(...duplicates);
    for (let i = events.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [events[i], events[j]] = [events[j]!, events[i]!];
    }
    for (let start = 0; start < events.length; start += 250) {
      const chunk = events.slice(start, start + 250);
      // Within a batch the store applies predictions first, then outcomes; a mixed batch is
      // split so that events keep their shuffled order.
      for (const event of chunk) {
        if (event.kind === 'p')
          store.apply({ predictions: [prediction(event.item.id, event.item.batchIndex)] });
        else store.apply({ outcomes: [outcome(event.id, event.label, event.batchIndex)] });
      }
    }
    const withOutcome = items.filter((i) => i.hasOutcome);
    expect(store.counts()).toEqual({
      predictions: items.length,
      shadowPredictions: 0,
      outcomes: withOutcome.length + orphanOutcomes.length,
      labeledExamples: withOutcome.length,
      shadowLabeledExamples: 0,
      pendingPredictions: items.length - withOutcome.length,
      pendingOutcomes: orphanOutcomes.length,
      expiredPredictions: 0,
      expiredOutcomes: 0,
      duplicatePredictions: duplicates.filter((e) => e.kind === 'p').length,
      duplicateOutcomes: duplicates.filter((e) => e.kind === 'o').length,
      conflictingOutcomes: 0,
    });
    const labels = new Map(
      store.examples().map((r) => [`${r.request_id}/${r.batch_index}`, r.label]),
    );
    expect(labels.size).toBe(withOutcome.length);
    for (const item of withOutcome)
      expect(labels.get(`${item.id}/${item.batchIndex}`)).toBe(item.label);
    store.close();
  });
});

describe('scoregate.join.items', () => {
  it('reports every count of the store by name when collected', async () => {
    const store = openStore();
    registerJoinMetrics(store);
    store.apply({
      predictions: [prediction('m1'), prediction('m1')],
      outcomes: [outcome('m2', 1)],
    });
    const points = await telemetry.collect('scoregate.join.items');
    const byName = Object.fromEntries(points.map((p) => [p.attributes['count'], p.value]));
    expect(byName).toMatchObject({
      predictions: 1,
      duplicate_predictions: 1,
      outcomes: 1,
      pending_predictions: 1,
      pending_outcomes: 1,
      labeled_examples: 0,
    });
    expect(Object.keys(byName)).toHaveLength(12);
    store.close();
  });
});

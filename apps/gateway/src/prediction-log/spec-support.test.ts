/** Helpers shared by the prediction-log specs (not part of the gateway build, not a spec itself). */
import { installTelemetryForTests as installTestTelemetry } from '@scoregate/telemetry/testing';
import { create } from '@bufbuild/protobuf';
import {
  EntityKeySchema,
  FeatureInputSchema,
  FeatureResultSchema,
  FeatureStatus,
  FeatureValueSchema,
  type FeatureInput,
} from '@scoregate/contracts';
import { featuresUsed, predictionEventFromAnswer } from './prediction-event.js';

/** W3C propagation, async context and metrics for this test process; the dropped-events count. */
export function installTelemetryForTests(): { collectDropped(): Promise<number> } {
  const telemetry = installTestTelemetry();
  return {
    /** The sum of `scoregate.prediction_log.dropped` over its attributes, as an exporter reads it. */
    async collectDropped() {
      const points = await telemetry.collect('scoregate.prediction_log.dropped');
      return points.reduce((sum, point) => sum + point.value, 0);
    },
  };
}

export { contextWithTrace } from '@scoregate/telemetry/testing';

/** Polls `probe` every `everyMs` until it returns true or `ms` pass; says what it waited for. */
export async function waitUntil(
  probe: () => boolean | Promise<boolean>,
  ms: number,
  what: string,
  everyMs = 50,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

export function uniqueSuffix(): string {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

const contract: FeatureInput[] = [
  create(FeatureInputSchema, { ref: 'customer_profile:tenure_months', required: true }),
  create(FeatureInputSchema, {
    ref: 'customer_profile:open_tickets',
    required: false,
    defaultValue: { kind: { case: 'doubleValue', value: 0 } },
  }),
  create(FeatureInputSchema, { ref: 'line_quality:snr_db', required: true }),
];
const stored = new Map([
  [
    'customer_profile:tenure_months',
    create(FeatureResultSchema, {
      ref: 'customer_profile:tenure_months',
      status: FeatureStatus.OK,
      value: { kind: { case: 'doubleValue', value: 37 } },
    }),
  ],
]);

const snr = create(FeatureValueSchema, { kind: { case: 'doubleValue', value: 21.5 } });

/** A realistic event of one answer, request id `<run>-<n>`. */
export function answerEvent(run: string, n: number) {
  return predictionEventFromAnswer({
    request: {
      scorer: 'truck-roll-priority',
      entityKeys: [create(EntityKeySchema, { entityType: 'customer', key: `c-${n}` })],
      requestFeatures: { snr_db: snr },
      budgetMs: 50,
      requestId: `${run}-${n}`,
    },
    response: {
      requestId: `${run}-${n}`,
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      score: 0.42,
      outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [2n], values: [0.58, 0.42] }],
      servedBy: { model: 'truck-roll', version: '3', alias: 'champion' },
      degraded: false,
      reasons: [],
      timings: { budget: { nanos: 50_000_000 }, total: { nanos: 4_000_000 } },
    },
    features: featuresUsed(contract, stored, { snr_db: snr }),
  });
}

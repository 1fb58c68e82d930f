import type { ObservableGauge } from '@opentelemetry/api';
import { getMeter } from '@scoregate/telemetry';
import type { PartitionLag } from './messages.js';

type LagSource = { readonly group: string; read(): Promise<PartitionLag[]> };

const sources = new Set<LagSource>();
let gauge: ObservableGauge | undefined;

/**
 * Publishes a consumer's lag as the observable gauge `scoregate.messaging.consumer.lag` (attributes
 * `topic`, `partition`, `group`), read when the metrics are collected. Returns the unregister
 * function. The gauge is created on first use, after the process entry point started the SDK.
 */
export function registerConsumerLag(source: LagSource): () => void {
  if (gauge === undefined) {
    gauge = getMeter('@scoregate/messaging').createObservableGauge(
      'scoregate.messaging.consumer.lag',
      {
        description: 'Messages written to a partition but not yet processed by the consumer group',
        unit: '{message}',
      },
    );
    gauge.addCallback(async (result) => {
      const readings = await Promise.allSettled(
        [...sources].map(async (s) => [s, await s.read()] as const),
      );
      for (const reading of readings) {
        if (reading.status !== 'fulfilled') continue;
        const [s, lags] = reading.value;
        for (const lag of lags)
          result.observe(lag.lag, { topic: lag.topic, partition: lag.partition, group: s.group });
      }
    });
  }
  sources.add(source);
  return () => sources.delete(source);
}

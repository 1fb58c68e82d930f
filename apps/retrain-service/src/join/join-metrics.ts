import { getMeter } from '@scoregate/telemetry';
import type { LabeledExampleStore } from './labeled-example-store.js';

/**
 * `scoregate.join.items{count}`: the join's counts (JoinCounts, snake_case names: predictions,
 * pending_outcomes, expired_predictions, duplicate_outcomes, …), read from the store when scraped.
 */
export function registerJoinMetrics(store: LabeledExampleStore): void {
  getMeter('@scoregate/retrain-service')
    .createObservableGauge('scoregate.join.items', {
      description:
        'Counts of the join of predictions with outcomes: received, labelled, pending, expired, duplicates, conflicts',
      unit: '{item}',
    })
    .addCallback((result) => {
      for (const [name, value] of Object.entries(store.counts()))
        result.observe(value, { count: name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`) });
    });
}

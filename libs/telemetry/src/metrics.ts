import { metrics, type Meter } from '@opentelemetry/api';

/**
 * The meter application code records metrics with. Without the SDK (tests, tools) it is a no-op;
 * under `--import @scoregate/telemetry/register` with `OTEL_METRICS_EXPORTER=prometheus` (and
 * `OTEL_EXPORTER_PROMETHEUS_HOST`/`_PORT`) the values are served at `/metrics`.
 */
export function getMeter(name = 'scoregate'): Meter {
  return metrics.getMeter(name);
}

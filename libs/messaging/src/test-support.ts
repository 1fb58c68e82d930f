/** Helpers shared by this library's specs (not exported from the package). */
import { installTelemetryForTests as installTestTelemetry } from '@scoregate/telemetry/testing';

export { activeTraceId, contextWithTrace } from '@scoregate/telemetry/testing';

/** Unique suffix for topic and group names so runs never collide. */
export function uniqueSuffix(): string {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

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

/** W3C propagation, async context and metrics for this test process; consumer lag by key. */
export function installTelemetryForTests(): { collectLag(): Promise<Map<string, number>> } {
  const telemetry = installTestTelemetry();
  return {
    /** `scoregate.messaging.consumer.lag` by `group/topic/partition`, as an exporter would read it now. */
    async collectLag() {
      const values = new Map<string, number>();
      for (const { attributes, value } of await telemetry.collect(
        'scoregate.messaging.consumer.lag',
      )) {
        const { group, topic, partition } = attributes;
        values.set(`${String(group)}/${String(topic)}/${String(partition)}`, value);
      }
      return values;
    },
  };
}

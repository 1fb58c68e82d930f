import type { Instrumentation } from '@opentelemetry/instrumentation';
import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { KafkaJsInstrumentation } from '@opentelemetry/instrumentation-kafkajs';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';

/** What every instrumentation class offers besides the common interface. */
export interface ModuleInstrumentation extends Instrumentation {
  getModuleDefinitions(): readonly { readonly name: string }[];
}

/**
 * The libraries Scoregate traces, listed explicitly (no auto-instrumentation bundle): each
 * is patched when first loaded, so these must exist before the application imports them.
 * fs and dns are deliberately absent: they add a span per call and say nothing useful here.
 */
export function createInstrumentations(): ModuleInstrumentation[] {
  return [
    new GrpcInstrumentation(),
    new HttpInstrumentation(),
    new IORedisInstrumentation(),
    new KafkaJsInstrumentation(),
    new PgInstrumentation(),
  ];
}

/** The module names the instrumentations patch: the ESM import hook wraps only these. */
export function instrumentedModuleNames(
  instrumentations: readonly ModuleInstrumentation[],
): string[] {
  const names = new Set<string>();
  for (const instrumentation of instrumentations) {
    for (const definition of instrumentation.getModuleDefinitions()) names.add(definition.name);
  }
  return [...names];
}

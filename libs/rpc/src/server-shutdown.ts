import type { Server } from '@grpc/grpc-js';
import type { HealthImplementation } from 'grpc-health-check';
import type { DescService } from '@bufbuild/protobuf';
import type { CallRunner } from './call-runner.js';
import type { RpcLogger } from './logger.js';

export interface ShutdownOptions {
  /** Time to keep answering after health turns NOT_SERVING, so balancers stop sending. */
  readonly drainDelayMs?: number;
  /** Longest wait for in-flight calls before they are cut. */
  readonly graceMs?: number;
  /** After the last call finished, time for its response to be written before connections close. */
  readonly flushMs?: number;
}

/** What a graceful shutdown works on. */
export interface ServerParts {
  readonly name: string;
  readonly logger: RpcLogger;
  readonly server: Server;
  readonly health: HealthImplementation;
  readonly services: readonly DescService[];
  readonly draining: AbortController;
  readonly calls: CallRunner;
}

/** NOT_SERVING → stop taking calls → wait for in-flight calls (bounded) → close. */
export async function shutDownGracefully(
  { name, logger, server, health, services, draining, calls }: ServerParts,
  { drainDelayMs = 100, graceMs = 10_000, flushMs = 250 }: ShutdownOptions = {},
): Promise<void> {
  health.setStatus('', 'NOT_SERVING');
  for (const service of services) health.setStatus(service.typeName, 'NOT_SERVING');
  draining.abort(new Error('the server is shutting down'));
  logger.info(
    { inFlight: calls.inFlight() },
    `${name}: shutting down: health NOT_SERVING, draining`,
  );
  await delay(drainDelayMs);
  // Stop taking new calls; calls already running go on.
  const closed = new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  const timedOut = await Promise.race([
    calls.idle().then(() => false),
    delay(graceMs).then(() => true),
  ]);
  if (timedOut) {
    const running = calls.inFlight();
    logger.warn({ inFlight: running }, `${name}: grace period over, cutting ${running} call(s)`);
  }
  // Give the last responses time to reach the wire; then cut what still holds a connection
  // open (long-lived streams that are not ours, such as health Watch).
  await Promise.race([closed, delay(flushMs)]);
  server.forceShutdown();
  await closed;
  logger.info(`${name}: stopped`);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * A PRIVATE Kafka broker for one spec: its own free ports and its own state folder, started and
 * stopped with tools/infra/kafka.sh. The shared broker (127.0.0.1:9092) is never touched.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '@scoregate/stack';
import { repoRoot } from './chaos-fixture.js';

const run = promisify(execFile);

export interface PrivateKafka {
  /** `127.0.0.1:<port>` of the private broker. */
  readonly broker: string;
  /** Runs `kafka.sh start`; resolves when the broker answers, with the time it took (ms). */
  start(): Promise<number>;
  /** Runs `kafka.sh stop`; resolves when the process is gone, with the time it took (ms). */
  stop(): Promise<number>;
  /** Stops the broker (if running) and removes its state folder. */
  dispose(): Promise<void>;
}

export async function createPrivateKafka(): Promise<PrivateKafka> {
  const stateDir = await mkdtemp(join(tmpdir(), 'scoregate-chaos-kafka-'));
  const port = await freePort();
  let controllerPort = await freePort();
  while (controllerPort === port) controllerPort = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KAFKA_PORT: String(port),
    KAFKA_CONTROLLER_PORT: String(controllerPort),
    SCOREGATE_INFRA_DIR: stateDir,
  };
  const kafka = async (command: 'start' | 'stop'): Promise<number> => {
    const started = Date.now();
    // Niced: the broker stands in for one on another machine, so its JVM start must not starve
    // the services under test of this machine's two cores.
    await run('nice', ['-n', '15', 'bash', join(repoRoot, 'tools/infra/kafka.sh'), command], {
      env,
      timeout: 120_000,
    });
    return Date.now() - started;
  };
  return {
    broker: `127.0.0.1:${port}`,
    start: () => kafka('start'),
    stop: () => kafka('stop'),
    async dispose() {
      await kafka('stop').catch(() => undefined);
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}

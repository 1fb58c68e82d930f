import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from '@scoregate/rpc';

const run = promisify(execFile);
/** The repository (this file is in libs/test-servers/src or dist). */
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

/**
 * A Kafka broker of the test's own — free ports, its own state folder — started and stopped with
 * tools/infra/kafka.sh (which installs Kafka when missing), so a test may stop it under load. The
 * shared broker (127.0.0.1:9092) is never touched.
 */
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

export async function createPrivateKafka(
  options: {
    /**
     * Scheduling niceness of the broker (`nice -n`): a broker that stands in for one on another
     * machine should not starve the processes under test of a shared machine's cores. Default 0.
     */
    nice?: number;
  } = {},
): Promise<PrivateKafka> {
  const stateDir = await mkdtemp(join(tmpdir(), 'scoregate-private-kafka-'));
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
    const script = join(repoRoot, 'tools/infra/kafka.sh');
    await run('nice', ['-n', String(options.nice ?? 0), 'bash', script, command], {
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

import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { startService as startStackService } from '@scoregate/stack';

export const root = join(import.meta.dirname, '../../..');
export const fixtures = join(root, 'tools/models/fixtures');

export interface ServiceProcess {
  readonly address: string;
  readonly process: ChildProcess;
  /** Every line the process printed so far. */
  readonly output: string[];
  /** SIGTERM, then SIGKILL if it hangs; resolves with the exit code or signal. */
  stop(): Promise<number | string>;
}

/**
 * Starts one service from its build as the stack does, on a free port, and waits until its health
 * says SERVING; keeps every line it prints.
 */
export async function startService(
  name: 'scoring-service' | 'registry-service',
  env: Record<string, string>,
  readyTimeoutMs = 30_000,
): Promise<ServiceProcess> {
  const output: string[] = [];
  const running = await startStackService({
    name,
    port: 0,
    env,
    readyTimeoutMs,
    root,
    onOutput: (line) => output.push(line),
  });
  return { address: running.address, process: running.process, output, stop: running.stop };
}

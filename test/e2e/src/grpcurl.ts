import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { execFileSync } from 'node:child_process';
import { repoRoot } from './stack-fixture.js';

const run = promisify(execFile);

/** The grpcurl binary: $GRPCURL, or built by tools/grpcurl/install.sh (cached). */
export function grpcurlPath(): string {
  const fromEnv = process.env['GRPCURL'];
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  return execFileSync('bash', [join(repoRoot, 'tools/grpcurl/install.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
}

export async function grpcurl(args: string[]): Promise<string> {
  const { stdout } = await run(grpcurlPath(), ['-plaintext', '-max-time', '10', ...args], {
    timeout: 20_000,
  });
  return stdout;
}

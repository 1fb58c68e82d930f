import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './stack-fixture.js';

// The machine's own Node, older than the pinned one (npm scripts use node_modules/.bin/node).
const OLD_NODE = '/usr/bin/node';

const ENTRY_POINTS: readonly { name: string; entry: string; args?: string[] }[] = [
  { name: 'the CLI', entry: 'apps/cli/dist/main.js', args: ['stack'] },
  { name: 'gateway', entry: 'apps/gateway/dist/main.js' },
  { name: 'feature-service', entry: 'apps/feature-service/dist/main.js' },
  { name: 'the feature ingestor', entry: 'apps/feature-service/dist/ingest-main.js' },
  { name: 'scoring-service', entry: 'apps/scoring-service/dist/main.js' },
  { name: 'registry-service', entry: 'apps/registry-service/dist/main.js' },
  { name: 'retrain-service', entry: 'apps/retrain-service/dist/main.js' },
];

describe('an entry point started on a Node older than the pinned one', () => {
  it(`has ${OLD_NODE} to test with, and it is older than Node 24`, () => {
    expect(existsSync(OLD_NODE), `${OLD_NODE} is missing: install Node 20 there`).toBe(true);
    const version = spawnSync(OLD_NODE, ['--version'], { encoding: 'utf8' }).stdout.trim();
    expect(Number(version.slice(1).split('.')[0])).toBeLessThan(24);
  });

  it.each(ENTRY_POINTS)(
    '$name refuses with one line saying what to do, and exit code 1',
    ({ entry, args = [] }) => {
      const run = spawnSync(OLD_NODE, [join(repoRoot, entry), ...args], {
        cwd: repoRoot,
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(
        /^scoregate needs Node 24 \(this is v\d+\.\d+\.\d+\); run it through npm \(npm start \/ npm run scoregate -- …\), which uses the pinned Node in node_modules\/\.bin, or install Node 24\n$/,
      );
      expect(run.status).toBe(1);
    },
  );
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REQUIRED_NODE_MAJOR } from './supported-node.js';

const rootFile = (name: string) =>
  readFileSync(new URL(`../../../${name}`, import.meta.url), 'utf8');

describe('the Node version every entry point requires', () => {
  it('is the major pinned by the root package.json (engines, node devDependency) and .nvmrc', () => {
    const root = JSON.parse(rootFile('package.json')) as {
      engines: { node: string };
      devDependencies: { node: string };
    };
    const next = REQUIRED_NODE_MAJOR + 1;
    expect(root.engines.node).toBe(`>=${REQUIRED_NODE_MAJOR} <${next}`);
    expect(root.devDependencies.node.split('.')[0]).toBe(String(REQUIRED_NODE_MAJOR));
    expect(rootFile('.nvmrc').trim()).toBe(String(REQUIRED_NODE_MAJOR));
  });
});

import { describe, expect, it } from 'vitest';
import { neededVersions } from './load-plan.js';
import type { ModelStore } from './model-store.js';
import type { KnownVersion, RegistryState } from './registry-state.js';
import type { ServedModel } from './served-model.js';

const known = (model: string, version: string): [string, KnownVersion] => [
  `${model}@${version}`,
  { model, version, sha256: '', sizeBytes: 0n, nonFiniteInputs: [] },
];

/** A store that holds `served` versions with `aliases` (model → alias → version). */
function storeWith(
  served: [string, string][],
  aliases: Record<string, Record<string, string>> = {},
): ModelStore {
  return {
    list: () => served.map(([name, version]) => ({ name, version }) as ServedModel),
    aliases: (name: string) => aliases[name] ?? {},
  } as ModelStore;
}

describe('versions that must be loaded', () => {
  const state: RegistryState = {
    versions: new Map([known('a', '1'), known('a', '2'), known('a', '10'), known('b', '3')]),
    aliases: new Map([['a', new Map([['champion', '1']])]]),
  };

  it("every alias target and each model's highest version (by number, not by text)", () => {
    expect([...neededVersions(state, storeWith([]))].sort()).toEqual(['a@1', 'a@10', 'b@3']);
  });

  it('keeps what an alias of the store serves now, until that alias has moved', () => {
    const store = storeWith(
      [
        ['a', '2'],
        ['b', '1'],
      ],
      { a: { canary: '2' } },
    );
    const needed = neededVersions(state, store);
    expect(needed.has('a@2')).toBe(true);
    expect(needed.has('b@1')).toBe(false);
  });
});

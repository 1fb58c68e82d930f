import { randomUUID } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { ScorerSchema } from '@scoregate/contracts';
import { describe, expect, it } from 'vitest';
import type { ChainModel } from '../route-resolver.js';
import { chooseCanary } from './canary.js';
import type { TableRoute } from './route-table.js';
import { chooseShadow } from './shadow.js';
import { entityPoint } from './sticky.js';

const model = (name: string, alias: string, version: string): ChainModel => ({
  model: name,
  alias,
  version,
  inputName: 'features',
  contract: [],
  outputs: [],
});

const champion = model('truck-roll-gbt', 'champion', '1');
const fallback = model('truck-roll-logreg', 'champion', '1');
const canaryModel = model('truck-roll-gbt', 'canary', '2');
const shadowModel = model('truck-roll-challenger', 'challenger', '4');

function routeWith(canaryShare: number, shadowShare: number): TableRoute {
  return {
    scorer: create(ScorerSchema, {
      name: 'truck-roll-priority',
      entityType: 'customer',
      chain: [
        { model: 'truck-roll-gbt', alias: 'champion' },
        { model: 'truck-roll-logreg', alias: 'champion' },
      ],
    }),
    chain: [champion, fallback],
    budgetMs: 50,
    canary: canaryShare > 0 ? { model: canaryModel, share: canaryShare } : undefined,
    shadow: shadowShare > 0 ? { model: shadowModel, share: shadowShare } : undefined,
  };
}

const keys = Array.from({ length: 10_000 }, () => ({ entityType: 'customer', key: randomUUID() }));

describe('canary selection', () => {
  it.each([0.05, 0.3, 0.5])(
    'over 10,000 random entity keys the canary share is within ±2%% of the configured %s',
    (share) => {
      const route = routeWith(share, 0);
      const onCanary = keys.filter((entity) => chooseCanary(route, entity).canary).length;
      expect(Math.abs(onCanary / keys.length - share)).toBeLessThanOrEqual(0.02);
    },
  );

  it('each entity key always lands on the same side, call after call', () => {
    const route = routeWith(0.3, 0);
    const first = keys.map((entity) => chooseCanary(route, entity).canary);
    for (let round = 0; round < 3; round++) {
      // A fresh object each time: the decision depends on the key's value only.
      const again = keys.map((e) => chooseCanary(route, { ...e }).canary);
      expect(again).toEqual(first);
    }
  });

  it('the canary side is served by the canary version first, falling back to the primary version and then the rest of the chain', () => {
    const route = routeWith(1, 0);
    const choice = chooseCanary(route, keys[0]!);
    expect(choice.canary).toBe(true);
    expect(choice.route.chain.map((m) => `${m.model}@${m.alias}:${m.version}`)).toEqual([
      'truck-roll-gbt@canary:2',
      'truck-roll-gbt@champion:1',
      'truck-roll-logreg@champion:1',
    ]);
    expect(route.chain[0]).toBe(champion); // the shared route is not changed
  });

  it('without a canary, or with share 0, every entity gets the primary route unchanged', () => {
    const route = routeWith(0, 0);
    for (const entity of keys.slice(0, 1000)) {
      const choice = chooseCanary(route, entity);
      expect(choice.canary).toBe(false);
      expect(choice.route).toBe(route);
    }
  });

  it('no canary when the first chain step did not resolve (nothing to compare it with)', () => {
    const route = { ...routeWith(1, 0), chain: [fallback] };
    expect(chooseCanary(route, keys[0]!)).toEqual({ route, canary: false });
  });

  it('a plain Route (no canary field) is served unchanged', () => {
    const { canary: _c, shadow: _s, ...plain } = routeWith(1, 1);
    expect(chooseCanary(plain, keys[0]!).route).toBe(plain);
    expect(chooseShadow(plain, keys[0]!)).toBeUndefined();
  });

  it('the same key of another entity type is decided independently', () => {
    const a = entityPoint({ entityType: 'customer', key: 'c-1' }, 'x');
    const b = entityPoint({ entityType: 'site', key: 'c-1' }, 'x');
    expect(a).not.toBe(b);
    expect(a).toBeGreaterThanOrEqual(0);
    expect(a).toBeLessThan(1);
  });
});

describe('shadow selection', () => {
  it('mirrors the configured share of 10,000 random entities (±2%), sticky by key, independently of the canary', () => {
    const route = routeWith(0.3, 0.2);
    const mirrored = keys.filter((e) => chooseShadow(route, e) !== undefined);
    expect(Math.abs(mirrored.length / keys.length - 0.2)).toBeLessThanOrEqual(0.02);
    expect(keys.filter((e) => chooseShadow(route, { ...e }) !== undefined)).toEqual(mirrored);
    expect(chooseShadow(route, mirrored[0]!)).toBe(shadowModel);
    // Independent salts: about 30% of the mirrored entities are also on the canary.
    const both = mirrored.filter((e) => chooseCanary(route, e).canary).length;
    expect(Math.abs(both / mirrored.length - 0.3)).toBeLessThanOrEqual(0.05);
  });

  it('mirrors nothing when the scorer has no shadow', () => {
    const route = routeWith(0.3, 0);
    expect(keys.some((e) => chooseShadow(route, e) !== undefined)).toBe(false);
  });
});

import { afterAll, describe, expect, it } from 'vitest';
import { loadCatalogue } from './catalogue.js';
import { createRegistryStore, type RegistryStore } from './store/registry-store.js';
import { describeRegistryBehaviour } from './testing/registry-behaviour.js';
import { postgresTestDatabase, sha256Of } from './testing/registry-harness.js';

// The real PostgreSQL started by tools/infra (DATABASE_URL), in a schema of this run's own.
describeRegistryBehaviour(postgresTestDatabase);

describe('PostgreSQL: two registries writing to one database at once', () => {
  const db = postgresTestDatabase();
  const stores: RegistryStore[] = [];
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await db.dispose();
  });

  it('never gives two versions one number, loses no alias move, and numbers every change once', async () => {
    // Two stores with their own connection pools, as two registry-service processes would have.
    for (let i = 0; i < 2; i++) stores.push(await createRegistryStore(await db.open('')));
    const spec = (await (await loadCatalogue()).getVersion('truck-roll-gbt', '1'))!.spec!;
    const uploads = 12;
    const registered = await Promise.all(
      Array.from({ length: uploads }, (_, i) =>
        stores[i % 2]!.registerVersion({
          model: 'shared',
          modelDescription: '',
          sha256: sha256Of(new TextEncoder().encode(`artifact ${i}`)),
          sizeBytes: 10n,
          spec,
          registeredBy: `writer-${i % 2}`,
          placeArtifact: async () => async () => undefined,
        }),
      ),
    );
    expect(registered.map((r) => Number(r.version.version)).sort((a, b) => a - b)).toEqual(
      Array.from({ length: uploads }, (_, i) => i + 1),
    );

    const moves = 20;
    await Promise.all(
      Array.from({ length: moves }, (_, i) =>
        stores[i % 2]!.setAlias({
          model: 'shared',
          alias: 'champion',
          version: String((i % uploads) + 1),
          reason: `move ${i}`,
          movedBy: `writer-${i % 2}`,
        }),
      ),
    );
    const history = (
      await stores[0]!.aliasHistory('shared', 'champion', { limit: 1000 })
    ).items.reverse();
    expect(history.length).toBeGreaterThan(0);
    expect(history[0]!.fromVersion).toBe('');
    for (let i = 1; i < history.length; i++)
      expect(history[i]!.fromVersion).toBe(history[i - 1]!.toVersion);
    expect((await stores[1]!.getModel('shared'))?.aliases['champion']).toBe(
      history.at(-1)!.toVersion,
    );

    // The change log holds revisions 1..N, each once, in commit order.
    const { changes, complete } = await stores[1]!.changesAfter(0n, 10_000);
    expect(complete).toBe(true);
    expect(changes.map((c) => c.revision)).toEqual(
      Array.from({ length: changes.length }, (_, i) => BigInt(i + 1)),
    );
    expect(changes).toHaveLength(uploads + history.length);
  });
});

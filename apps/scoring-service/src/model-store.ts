import type { ServedModel } from './served-model.js';

/** The alias an empty version selector means. */
export const DEFAULT_ALIAS = 'champion';

const VERSION_NUMBER = /^[1-9][0-9]{0,17}$/;

/** A served model version held for the duration of one call. */
export interface ModelLease {
  readonly served: ServedModel;
  /** Gives the reference back; call exactly once, when the call is over. */
  release(): void;
}

/** Why a version cannot serve: set when a version failed to download, verify, load or warm up. */
export interface LoadFailure {
  readonly stage: 'download' | 'verify' | 'load' | 'warm-up';
  readonly message: string;
}

/**
 * The model versions this scoring-service serves, and its aliases, by model name.
 *
 * A model is addressed by name plus a selector (the Open Inference Protocol's `version` /
 * `model_version` field): a version number (`"3"`) chooses that version, any other word chooses
 * the version an alias points at (`"champion"`, `"canary"`), and an empty selector means the
 * `champion` alias, or the highest loaded version when the model has no `champion`.
 *
 * Moving an alias is one map write: calls that resolve afterwards get the new version, calls
 * already running keep the one they hold (see ServedModel).
 */
export interface ModelStore {
  /** The version a selector names now, or undefined. */
  get(name: string, selector?: string): ServedModel | undefined;
  /** Resolves and takes a reference in one step (no swap can slip in between). */
  acquire(name: string, selector?: string): ModelLease | undefined;
  /** Adds a loaded version. A version already present is kept and the new one returned as false. */
  add(served: ServedModel): boolean;
  /** Points an alias at a loaded version; false when that version is not loaded. */
  setAlias(name: string, alias: string, version: string): boolean;
  deleteAlias(name: string, alias: string): void;
  /** Removes a version (and the aliases on it) and retires it once its calls finish. */
  remove(name: string, version: string): Promise<void>;
  /** Loaded versions of a model, ascending. */
  versions(name: string): string[];
  /** Alias → version of a model. */
  aliases(name: string): Record<string, string>;
  /** Every loaded version. */
  list(): ServedModel[];
  /** Records that a version cannot serve (shown by ModelReady and the health detail). */
  setFailure(name: string, version: string, failure: LoadFailure | undefined): void;
  failure(name: string, version: string): LoadFailure | undefined;
  /** Every recorded failure, as `model@version` → failure. */
  failures(): Record<string, LoadFailure>;
  /** Retires every version. */
  releaseAll(): Promise<void>;
}

interface Entry {
  readonly versions: Map<string, ServedModel>;
  readonly aliases: Map<string, string>;
}

export function isVersionNumber(selector: string): boolean {
  return VERSION_NUMBER.test(selector);
}

const byNumber = (a: string, b: string) =>
  BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0;

export function createModelStore(): ModelStore {
  const models = new Map<string, Entry>();
  const failed = new Map<string, LoadFailure>();

  const entry = (name: string): Entry => {
    let found = models.get(name);
    if (!found) {
      found = { versions: new Map(), aliases: new Map() };
      models.set(name, found);
    }
    return found;
  };

  function get(name: string, selector = ''): ServedModel | undefined {
    const found = models.get(name);
    if (!found) return undefined;
    if (isVersionNumber(selector)) return found.versions.get(selector);
    if (selector !== '') {
      const target = found.aliases.get(selector);
      return target === undefined ? undefined : found.versions.get(target);
    }
    const champion = found.aliases.get(DEFAULT_ALIAS);
    if (champion !== undefined) return found.versions.get(champion);
    const highest = [...found.versions.keys()].sort(byNumber).at(-1);
    return highest === undefined ? undefined : found.versions.get(highest);
  }

  return {
    get,
    acquire(name, selector) {
      const served = get(name, selector);
      return served ? { served, release: served.acquire() } : undefined;
    },
    add(served) {
      const found = entry(served.name);
      if (found.versions.has(served.version)) return false;
      found.versions.set(served.version, served);
      failed.delete(`${served.name}@${served.version}`);
      return true;
    },
    setAlias(name, alias, version) {
      const found = models.get(name);
      if (!found?.versions.has(version)) return false;
      found.aliases.set(alias, version);
      return true;
    },
    deleteAlias(name, alias) {
      models.get(name)?.aliases.delete(alias);
    },
    async remove(name, version) {
      const found = models.get(name);
      const served = found?.versions.get(version);
      if (!found || !served) return;
      found.versions.delete(version);
      for (const [alias, target] of found.aliases)
        if (target === version) found.aliases.delete(alias);
      if (found.versions.size === 0) models.delete(name);
      await served.retire();
    },
    versions: (name) => [...(models.get(name)?.versions.keys() ?? [])].sort(byNumber),
    aliases: (name) => Object.fromEntries(models.get(name)?.aliases ?? []),
    list: () => [...models.values()].flatMap((e) => [...e.versions.values()]),
    setFailure(name, version, failure) {
      if (failure) failed.set(`${name}@${version}`, failure);
      else failed.delete(`${name}@${version}`);
    },
    failure: (name, version) => failed.get(`${name}@${version}`),
    failures: () => Object.fromEntries(failed),
    async releaseAll() {
      const all = [...models.values()].flatMap((e) => [...e.versions.values()]);
      models.clear();
      await Promise.all(all.map((served) => served.retire()));
    },
  };
}

import { ModelVersions } from './model-versions.js';
import type { ServedModel } from './served-model.js';

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

export function createModelStore(): ModelStore {
  const models = new Map<string, ModelVersions>();
  const failed = new Map<string, LoadFailure>();
  const get = (name: string, selector = '') => models.get(name)?.select(selector);
  const all = () => [...models.values()].flatMap((m) => [...m.versions.values()]);

  return {
    get,
    acquire(name, selector) {
      const served = get(name, selector);
      return served ? { served, release: served.acquire() } : undefined;
    },
    add(served) {
      let found = models.get(served.name);
      if (!found) models.set(served.name, (found = new ModelVersions()));
      if (!found.add(served)) return false;
      failed.delete(`${served.name}@${served.version}`);
      return true;
    },
    setAlias: (name, alias, version) => models.get(name)?.setAlias(alias, version) ?? false,
    deleteAlias(name, alias) {
      models.get(name)?.aliases.delete(alias);
    },
    async remove(name, version) {
      const found = models.get(name);
      const served = found?.remove(version);
      if (!found || !served) return;
      if (found.versions.size === 0) models.delete(name);
      await served.retire();
    },
    versions: (name) => models.get(name)?.versionNumbers() ?? [],
    aliases: (name) => Object.fromEntries(models.get(name)?.aliases ?? []),
    list: all,
    setFailure(name, version, failure) {
      if (failure) failed.set(`${name}@${version}`, failure);
      else failed.delete(`${name}@${version}`);
    },
    failure: (name, version) => failed.get(`${name}@${version}`),
    failures: () => Object.fromEntries(failed),
    async releaseAll() {
      const versions = all();
      models.clear();
      await Promise.all(versions.map((served) => served.retire()));
    },
  };
}

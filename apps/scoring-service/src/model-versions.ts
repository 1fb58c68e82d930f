import type { ServedModel } from './served-model.js';

/** The alias an empty version selector means. */
export const DEFAULT_ALIAS = 'champion';

const VERSION_NUMBER = /^[1-9][0-9]{0,17}$/;

export function isVersionNumber(selector: string): boolean {
  return VERSION_NUMBER.test(selector);
}

const byNumber = (a: string, b: string) =>
  BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0;

/**
 * The loaded versions of one model and its aliases, and the rule by which a selector picks one:
 * a version number chooses that version, any other word the version an alias points at, and an
 * empty selector the `champion` alias, or the highest loaded version when there is none.
 */
export class ModelVersions {
  readonly versions = new Map<string, ServedModel>();
  /** Alias → version. */
  readonly aliases = new Map<string, string>();

  select(selector: string): ServedModel | undefined {
    if (isVersionNumber(selector)) return this.versions.get(selector);
    if (selector !== '') return this.target(this.aliases.get(selector));
    const champion = this.aliases.get(DEFAULT_ALIAS);
    if (champion !== undefined) return this.versions.get(champion);
    return this.target(this.versionNumbers().at(-1));
  }

  /** Adds a version; false (and the one present kept) when it is loaded already. */
  add(served: ServedModel): boolean {
    if (this.versions.has(served.version)) return false;
    this.versions.set(served.version, served);
    return true;
  }

  /** Points an alias at a loaded version; false when that version is not loaded. */
  setAlias(alias: string, version: string): boolean {
    if (!this.versions.has(version)) return false;
    this.aliases.set(alias, version);
    return true;
  }

  /** Takes a version out, with the aliases on it; returns it, or undefined when not loaded. */
  remove(version: string): ServedModel | undefined {
    const served = this.versions.get(version);
    if (!served) return undefined;
    this.versions.delete(version);
    for (const [alias, target] of this.aliases) if (target === version) this.aliases.delete(alias);
    return served;
  }

  /** Loaded version numbers, ascending. */
  versionNumbers(): string[] {
    return [...this.versions.keys()].sort(byNumber);
  }

  private target(version: string | undefined): ServedModel | undefined {
    return version === undefined ? undefined : this.versions.get(version);
  }
}

import { create, fromJson, type JsonValue } from '@bufbuild/protobuf';
import { timestampFromDate, type Timestamp } from '@bufbuild/protobuf/wkt';
import { AliasMovedSchema, ScorerSchema, type AliasMoved, type Scorer } from '@scoregate/contracts';
import { applyServiceRules, checker, listOf, readJson, type Checker } from './catalogue-json.js';
import { CATALOGUE_IDENTITY, type ModelEntry } from './model-manifest.js';
import { isName, isVersionNumber, nameRule, versionRule } from './names.js';
import { checkScorerFields, checkScorerReferences, type VersionLookup } from './scorer-rules.js';

const CATALOGUE_KEYS = new Set(['description', 'aliases', 'scorers']);

/** The file being read and the manifest's models its entries refer to. */
interface CatalogueFile {
  readonly file: string;
  readonly manifestFile: string;
  readonly check: Checker;
  readonly models: Map<string, ModelEntry>;
  /** When the file's entries were set (its modification time). */
  readonly setAt: Timestamp;
}

/**
 * Reads the catalogue file (apps/registry-service/demo-catalogue.json format): its aliases, which
 * must point at versions of the manifest and are set on `models`, and its scorers, which must
 * pass the rules of RegistryService.PutScorer against those models.
 */
export async function loadAliasesAndScorers(
  file: string,
  manifestFile: string,
  models: Map<string, ModelEntry>,
): Promise<{ aliases: AliasMoved[]; scorers: Map<string, Scorer> }> {
  const { json, mtime } = await readJson(file);
  const check = checker(file);
  const root = check.object(json, '(root)');
  for (const key of Object.keys(root)) {
    if (!CATALOGUE_KEYS.has(key))
      check.fail(key, `unknown key; expected ${[...CATALOGUE_KEYS].join(', ')}`);
  }
  const catalogue = { file, manifestFile, check, models, setAt: timestampFromDate(mtime) };
  const aliases = aliasesOf(catalogue, root['aliases']);
  const scorers = await scorersOf(catalogue, root['scorers']);
  return { aliases, scorers };
}

/** `{ model: { alias: version } }`: each alias set on its model, as a move from nothing. */
function aliasesOf(catalogue: CatalogueFile, raw: unknown): AliasMoved[] {
  const { file, manifestFile, models, setAt } = catalogue;
  const check: Checker = catalogue.check;
  const aliases: AliasMoved[] = [];
  const aliasTable = raw === undefined ? {} : check.object(raw, 'aliases');
  for (const [model, rawTable] of Object.entries(aliasTable).sort(byKey)) {
    const entry = models.get(model);
    if (entry === undefined)
      check.fail(
        `aliases["${model}"]`,
        `model "${model}" is not in the manifest ${manifestFile} (models: ${listOf(models.keys())})`,
      );
    const table = check.object(rawTable, `aliases["${model}"]`);
    for (const [alias, rawVersion] of Object.entries(table).sort(byKey)) {
      const at = `aliases["${model}"]["${alias}"]`;
      if (!isName(alias)) check.fail(at, `alias ${nameRule(alias)}`);
      const version = check.string(rawVersion, at);
      if (!isVersionNumber(version)) check.fail(at, versionRule(version));
      if (!entry.versions.has(version))
        check.fail(
          at,
          `model "${model}" has no version "${version}" (versions: ${listOf(entry.versions.keys())})`,
        );
      entry.model.aliases[alias] = version;
      aliases.push(
        create(AliasMovedSchema, {
          model,
          alias,
          fromVersion: '',
          toVersion: version,
          reason: `set by the catalogue file ${file}`,
          movedBy: CATALOGUE_IDENTITY,
          movedAt: setAt,
        }),
      );
    }
  }
  return aliases;
}

/** `[scorer, ...]` in the canonical JSON of scoregate.registry.v1.Scorer, by name. */
async function scorersOf(catalogue: CatalogueFile, raw: unknown): Promise<Map<string, Scorer>> {
  const check: Checker = catalogue.check;
  const scorers = new Map<string, Scorer>();
  const entries = raw === undefined ? [] : check.array(raw, 'scorers');
  for (const [index, rawScorer] of entries.entries()) {
    const named =
      typeof (rawScorer as { name?: unknown } | null)?.name === 'string'
        ? ` "${(rawScorer as { name: string }).name}"`
        : '';
    const at = `scorers[${index}]${named}`;
    let scorer: Scorer;
    try {
      scorer = fromJson(ScorerSchema, rawScorer as JsonValue);
    } catch (error) {
      return check.fail(
        at,
        `is not a valid scoregate.registry.v1.Scorer in canonical JSON: ${(error as Error).message}`,
      );
    }
    await checkScorer(catalogue, scorer, at);
    if (scorers.has(scorer.name)) check.fail(at, `scorer "${scorer.name}" is defined twice`);
    scorer.updatedAt = catalogue.setAt;
    scorers.set(scorer.name, scorer);
  }
  return scorers;
}

/** The rules and messages of RegistryService.PutScorer, each field named under `at`. */
function checkScorer(catalogue: CatalogueFile, scorer: Scorer, at: string): Promise<void> {
  return applyServiceRules(catalogue.file, async () => {
    checkScorerFields(scorer, at);
    await checkScorerReferences(scorer, lookupIn(catalogue.models), undefined, at);
  });
}

function lookupIn(models: Map<string, ModelEntry>): VersionLookup {
  return async (model, alias) => {
    const entry = models.get(model);
    if (entry === undefined) return { model: false };
    const version = entry.model.aliases[alias];
    return {
      model: true,
      aliases: Object.keys(entry.model.aliases),
      version: version === undefined ? undefined : entry.versions.get(version),
    };
  };
}

function byKey([a]: [string, unknown], [b]: [string, unknown]): number {
  return a < b ? -1 : 1;
}

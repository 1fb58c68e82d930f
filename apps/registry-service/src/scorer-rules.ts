import { durationMs } from '@bufbuild/protobuf/wkt';
import { ValueType, type ModelVersion, type Scorer } from '@scoregate/contracts';
import { Code, RpcError } from '@scoregate/rpc';
import { typesCompatible, type FeatureViews } from './feature-views.js';
import { isName, nameRule } from './names.js';

const MAX_BUDGET_MS = 60_000;

/** What a model's alias resolves to, as the scorer checks need it. */
export type VersionLookup = (
  model: string,
  alias: string,
) => Promise<
  { model: false } | { model: true; aliases: string[]; version?: ModelVersion | undefined }
>;

/** The scorer's own fields: INVALID_ARGUMENT naming the first field at fault. */
export function checkScorerFields(scorer: Scorer, at = 'scorer'): void {
  const field = (name: string) => `${at}.${name}`;
  const name = (f: string, value: string) => {
    if (value === '') throw RpcError.invalidArgument(field(f), 'is required');
    if (!isName(value)) throw RpcError.invalidArgument(field(f), nameRule(value));
  };
  const share = (f: string, value: number) => {
    if (!(value >= 0 && value <= 1))
      throw RpcError.invalidArgument(field(f), `must be between 0 and 1 (got ${value})`);
  };
  name('name', scorer.name);
  name('entity_type', scorer.entityType);
  if (scorer.budget === undefined)
    throw RpcError.invalidArgument(field('budget'), 'is required, e.g. "0.050s"');
  const budget = durationMs(scorer.budget);
  if (!(budget > 0 && budget <= MAX_BUDGET_MS))
    throw RpcError.invalidArgument(
      field('budget'),
      `must be positive and at most 60s (got ${budget} ms)`,
    );
  if (scorer.defaultAnswer === undefined)
    throw RpcError.invalidArgument(field('default_answer'), 'is required');
  if (!Number.isFinite(scorer.defaultAnswer.score))
    throw RpcError.invalidArgument(field('default_answer.score'), 'must be a finite number');
  if (scorer.scoreOutput === '')
    throw RpcError.invalidArgument(field('score_output'), 'is required, e.g. "probabilities"');
  if (scorer.chain.length === 0)
    throw RpcError.invalidArgument(field('chain'), 'must have at least one step');
  for (const [i, step] of scorer.chain.entries()) {
    name(`chain[${i}].model`, step.model);
    name(`chain[${i}].alias`, step.alias);
  }
  if (scorer.canary) {
    share('canary.share', scorer.canary.share);
    if (scorer.canary.alias !== '') name('canary.alias', scorer.canary.alias);
  }
  if (scorer.shadow) {
    share('shadow.share', scorer.shadow.share);
    if (scorer.shadow.model !== '') {
      name('shadow.model', scorer.shadow.model);
      name('shadow.alias', scorer.shadow.alias);
    }
  }
}

/**
 * What the scorer refers to: every chain step's model and alias exist and that version has the
 * score output (with score_index in range), the canary alias exists on the first step's model,
 * the shadow model and alias exist; and, when feature views are known, every `view:feature` of
 * those versions' contracts is a feature of a view of the scorer's entity type, of a compatible
 * type. FAILED_PRECONDITION naming the field at fault (under `at`).
 */
export async function checkScorerReferences(
  scorer: Scorer,
  lookup: VersionLookup,
  views?: FeatureViews,
  at = 'scorer',
): Promise<void> {
  const resolve = async (step: string, model: string, alias: string): Promise<ModelVersion> => {
    const found = await lookup(model, alias);
    if (!found.model)
      throw new RpcError(
        Code.FAILED_PRECONDITION,
        `${at}.${step}.model: model "${model}" does not exist`,
      );
    if (found.version === undefined) {
      throw new RpcError(
        Code.FAILED_PRECONDITION,
        `${at}.${step}.alias: model "${model}" has no alias "${alias}" (aliases: ${found.aliases.join(', ') || 'none'})`,
      );
    }
    if (views) checkContract(`${at}.${step}`, scorer, found.version, views);
    return found.version;
  };
  for (const [i, step] of scorer.chain.entries()) {
    const version = await resolve(`chain[${i}]`, step.model, step.alias);
    checkScoreOutput(at, scorer, i, version);
  }
  if (scorer.canary && scorer.canary.alias !== '')
    await resolve('canary', scorer.chain[0]!.model, scorer.canary.alias);
  if (scorer.shadow && scorer.shadow.model !== '')
    await resolve('shadow', scorer.shadow.model, scorer.shadow.alias);
}

/** Chain step `step` resolved to `version`: it has the score output, with score_index in range. */
function checkScoreOutput(at: string, scorer: Scorer, step: number, version: ModelVersion): void {
  const output = version.spec?.outputs.find((o) => o.name === scorer.scoreOutput);
  if (output === undefined) {
    throw new RpcError(
      Code.FAILED_PRECONDITION,
      `${at}.score_output: "${scorer.scoreOutput}" is not an output of ${version.model} version ${version.version} (chain[${step}]; outputs: ${version.spec?.outputs.map((o) => o.name).join(', ') || 'none'})`,
    );
  }
  const perEntity = output.shape
    .slice(1)
    .reduce((n, dim) => (dim < 0n || n < 0n ? -1n : n * dim), 1n);
  if (perEntity >= 0n && BigInt(scorer.scoreIndex) >= perEntity) {
    throw new RpcError(
      Code.FAILED_PRECONDITION,
      `${at}.score_index: ${scorer.scoreIndex} is out of range: output "${output.name}" of ${version.model} version ${version.version} has ${perEntity} value(s) per entity`,
    );
  }
}

function checkContract(
  at: string,
  scorer: Scorer,
  version: ModelVersion,
  views: FeatureViews,
): void {
  const fail: (why: string) => never = (why) => {
    throw new RpcError(
      Code.FAILED_PRECONDITION,
      `${at}: ${version.model} version ${version.version} ${why}`,
    );
  };
  for (const input of version.spec?.contract?.inputs ?? []) {
    const [viewName, feature] = input.ref.split(':');
    if (feature === undefined) continue; // a request-time feature: the caller sends it
    const view = views.get(viewName!);
    if (view === undefined)
      fail(
        `needs ${input.ref}, but there is no feature view "${viewName}" (views: ${[...views.keys()].join(', ') || 'none'})`,
      );
    if (view.entityType !== scorer.entityType)
      fail(
        `needs ${input.ref}, but view "${viewName}" is keyed on ${view.entityType}, not on the scorer's entity type ${scorer.entityType}`,
      );
    const type = view.features.get(feature);
    if (type === undefined)
      fail(`needs ${input.ref}, but view "${viewName}" has no feature "${feature}"`);
    if (!typesCompatible(type, input.dtype))
      fail(
        `needs ${input.ref} as ${ValueType[input.dtype]}, but the view gives ${ValueType[type]}`,
      );
  }
}

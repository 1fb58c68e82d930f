import {
  create,
  fromBinary,
  toBinary,
  type DescMessage,
  type MessageInitShape,
} from '@bufbuild/protobuf';
import {
  DeleteAliasRequestSchema,
  DeleteScorerRequestSchema,
  GetModelRequestSchema,
  GetModelResponseSchema,
  GetScorerRequestSchema,
  GetScorerResponseSchema,
  ListAliasHistoryRequestSchema,
  ListAliasHistoryResponseSchema,
  ListModelVersionsRequestSchema,
  ListModelVersionsResponseSchema,
  ListModelsRequestSchema,
  ListModelsResponseSchema,
  ListScorersRequestSchema,
  ListScorersResponseSchema,
  PutScorerRequestSchema,
  RegistryService,
  SetAliasRequestSchema,
  UploadModelVersionRequestSchema,
} from '@scoregate/contracts';
import { Code, methodPath, type RawClient } from '@scoregate/rpc';
import { decoded, type FuzzInput } from './fuzz-input.js';
import type { BatchCheck, FuzzResult } from './fuzz-runner.js';

/** What a registry write names: a model's state, or a scorer. */
interface Named {
  readonly models: string[];
  readonly scorers: string[];
}

/** The model or scorer each write RPC's request names (none when it does not decode). */
const namedBy: Record<string, (input: FuzzInput) => Named> = {
  SetAlias: (input) => models(decoded(SetAliasRequestSchema, input.messages[0])?.model),
  DeleteAlias: (input) => models(decoded(DeleteAliasRequestSchema, input.messages[0])?.model),
  PutScorer: (input) => scorers(decoded(PutScorerRequestSchema, input.messages[0])?.scorer?.name),
  DeleteScorer: (input) => scorers(decoded(DeleteScorerRequestSchema, input.messages[0])?.name),
  UploadModelVersion: (input) => {
    const first = decoded(UploadModelVersionRequestSchema, input.messages[0]);
    return models(first?.content.case === 'header' ? first.content.value.model : undefined);
  },
};
const models = (name: string | undefined): Named => ({ models: name ? [name] : [], scorers: [] });
const scorers = (name: string | undefined): Named => ({ models: [], scorers: name ? [name] : [] });

export const REGISTRY_WRITES = Object.keys(namedBy);

/**
 * The no-partial-write property of a registry write RPC: before a batch, reads the listing (model
 * and scorer names) and the state of every model and scorer the batch names (versions, aliases,
 * alias history; the scorer as stored). Afterwards, whatever only refused writes named reads back
 * exactly as before, and the listing differs at most by names that an accepted write named.
 */
export function registryUnchangedUnlessWritten(client: RawClient, rpc: string) {
  const names = namedBy[rpc]!;
  return async (inputs: readonly FuzzInput[]): Promise<BatchCheck> => {
    const named = inputs.map(names);
    const modelNames = [...new Set(named.flatMap((n) => n.models))];
    const scorerNames = [...new Set(named.flatMap((n) => n.scorers))];
    const before = await registryState(client, modelNames, scorerNames);
    return async (results: readonly FuzzResult[]) => {
      const accepted = results.filter((r) => r.answer.code === Code.OK).map((r) => names(r.input));
      const written = new Set(accepted.flatMap((n) => [...n.models, ...n.scorers]));
      const after = await registryState(client, modelNames, scorerNames);
      for (const [key, state] of before) {
        const name = key.slice(key.indexOf(' ') + 1);
        if (written.has(name)) continue;
        if (key.startsWith('listing ')) continue;
        if (after.get(key) !== state)
          throw new Error(
            `${rpc}: ${key} changed although every write naming it was refused:\n  before ${state}\n  after  ${after.get(key)}`,
          );
      }
      for (const kind of ['models', 'scorers']) {
        const was = new Set(JSON.parse(before.get(`listing ${kind}`)!) as string[]);
        const is = new Set(JSON.parse(after.get(`listing ${kind}`)!) as string[]);
        const changed = [...is, ...was].filter((n) => is.has(n) !== was.has(n) && !written.has(n));
        if (changed.length > 0)
          throw new Error(
            `${rpc}: the ${kind} listing changed by ${JSON.stringify(changed)}, which no accepted write named`,
          );
      }
    };
  };
}

/** The registry's listing and the named models' and scorers' state, as comparable text. */
async function registryState(
  client: RawClient,
  modelNames: readonly string[],
  scorerNames: readonly string[],
): Promise<Map<string, string>> {
  const state = new Map<string, string>();
  const listedModels = await read(
    client,
    'ListModels',
    ListModelsRequestSchema,
    ListModelsResponseSchema,
    { pageSize: 1000 },
  );
  state.set('listing models', JSON.stringify(listedModels?.models.map((m) => m.name).sort() ?? []));
  const listedScorers = await read(
    client,
    'ListScorers',
    ListScorersRequestSchema,
    ListScorersResponseSchema,
    { pageSize: 1000 },
  );
  state.set(
    'listing scorers',
    JSON.stringify(listedScorers?.scorers.map((s) => s.name).sort() ?? []),
  );
  for (const name of modelNames) {
    const model = await read(client, 'GetModel', GetModelRequestSchema, GetModelResponseSchema, {
      name,
    });
    const page = { model: name, pageSize: 1000 };
    const [versions, history] = await Promise.all([
      read(
        client,
        'ListModelVersions',
        ListModelVersionsRequestSchema,
        ListModelVersionsResponseSchema,
        page,
      ),
      read(
        client,
        'ListAliasHistory',
        ListAliasHistoryRequestSchema,
        ListAliasHistoryResponseSchema,
        page,
      ),
    ]);
    state.set(
      `model ${name}`,
      JSON.stringify({
        aliases: model?.model?.aliases ?? null,
        latest: model?.model?.latestVersion ?? null,
        versions: versions?.versions.map((v) => `${v.version}:${v.sha256}`) ?? null,
        history:
          history?.moves.map((m) => `${m.alias}:${m.fromVersion}>${m.toVersion}:${m.reason}`) ??
          null,
      }),
    );
  }
  for (const name of scorerNames) {
    const scorer = await read(
      client,
      'GetScorer',
      GetScorerRequestSchema,
      GetScorerResponseSchema,
      { name },
    );
    state.set(
      `scorer ${name}`,
      scorer?.scorer ? JSON.stringify(toJsonSafe(scorer.scorer)) : 'absent',
    );
  }
  return state;
}

/**
 * One read RPC; undefined for NOT_FOUND or INVALID_ARGUMENT (a hostile name that cannot exist),
 * which read the same before and after.
 */
async function read<I extends DescMessage, O extends DescMessage>(
  client: RawClient,
  rpc: string,
  input: I,
  output: O,
  request: MessageInitShape<I>,
) {
  const method = RegistryService.methods.find((m) => m.name === rpc)!;
  const answer = await client.unary(methodPath(method), toBinary(input, create(input, request)), {
    timeoutMs: 10_000,
  });
  if (answer.code === Code.NOT_FOUND || answer.code === Code.INVALID_ARGUMENT) return undefined;
  if (answer.code !== Code.OK)
    throw new Error(`${rpc} to compare state: ${Code[answer.code]} ${answer.details}`);
  return fromBinary(output, answer.messages[0]!);
}

function toJsonSafe(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? String(v) : v)),
  );
}

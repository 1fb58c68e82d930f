import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  GetFeaturesRequestSchema,
  GetFeaturesResponseSchema,
  WriteFeaturesRequestSchema,
  type FeatureService,
} from '@scoregate/contracts';
import { Code, methodPath, type RawClient } from '@scoregate/rpc';
import { decoded, type FuzzInput } from './fuzz-input.js';
import type { BatchCheck, FuzzResult } from './fuzz-runner.js';
import { FEATURE_REFS, VIEW } from './messages/common-values.js';

const ENTITY_TYPE = 'customer';
const READ_CHUNK = 1000;

/** The customer keys a WriteFeatures input names (only those the store could hold). */
function namedKeys(input: FuzzInput): string[] {
  const request = decoded(WriteFeaturesRequestSchema, input.messages[0]);
  return (request?.rows ?? [])
    .filter((row) => row.view === VIEW && row.entity?.entityType === ENTITY_TYPE)
    .map((row) => row.entity!.key)
    .filter((key) => key !== '' && Buffer.byteLength(key) <= 256);
}

/**
 * The no-partial-write property of WriteFeatures: reads every entity the batch names before it is
 * sent; afterwards, each entity named only by refused writes must read back exactly as before
 * (values and event times). `checked` counts the entities compared.
 */
export function unchangedUnlessWritten(
  client: RawClient,
  method: (typeof FeatureService)['method']['getFeatures'],
  checked: { entities: number },
) {
  return async (inputs: readonly FuzzInput[]): Promise<BatchCheck> => {
    const keys = [...new Set(inputs.flatMap(namedKeys))];
    const before = await readRows(client, method, keys);
    return async (results: readonly FuzzResult[]) => {
      const written = new Set(
        results.filter((r) => r.answer.code === Code.OK).flatMap((r) => namedKeys(r.input)),
      );
      const untouched = keys.filter((key) => !written.has(key));
      const after = await readRows(client, method, untouched);
      for (const key of untouched) {
        if (after.get(key) !== before.get(key))
          throw new Error(
            `WriteFeatures: entity ${JSON.stringify(key)} changed although every write naming it was refused:\n  before ${before.get(key)}\n  after  ${after.get(key)}`,
          );
      }
      checked.entities += untouched.length;
    };
  };
}

/** Each key's stored row (values and event times, without freshness) as comparable text. */
async function readRows(
  client: RawClient,
  method: (typeof FeatureService)['method']['getFeatures'],
  keys: readonly string[],
): Promise<Map<string, string>> {
  const rows = new Map<string, string>();
  for (let at = 0; at < keys.length; at += READ_CHUNK) {
    const chunk = keys.slice(at, at + READ_CHUNK);
    const request = create(GetFeaturesRequestSchema, {
      entities: chunk.map((key) => ({ entityType: ENTITY_TYPE, key })),
      featureRefs: FEATURE_REFS,
    });
    const answer = await client.unary(
      methodPath(method),
      toBinary(GetFeaturesRequestSchema, request),
      {
        timeoutMs: 10_000,
      },
    );
    if (answer.code !== Code.OK)
      throw new Error(`GetFeatures to compare rows: ${Code[answer.code]} ${answer.details}`);
    const response = fromBinary(GetFeaturesResponseSchema, answer.messages[0]!);
    response.results.forEach((result, i) => {
      const values = result.values.map((v) => [
        v.ref,
        v.value?.kind.case ?? 'missing',
        String(v.value?.kind.value ?? ''),
        String(v.eventTime?.seconds ?? ''),
        v.eventTime?.nanos ?? '',
      ]);
      rows.set(chunk[i]!, JSON.stringify(values));
    });
  }
  return rows;
}

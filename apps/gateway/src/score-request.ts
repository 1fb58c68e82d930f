import { randomUUID } from 'node:crypto';
import { durationMs } from '@bufbuild/protobuf/wkt';
import type { EntityKey, FeatureValue, ScoreRequest } from '@scoregate/contracts';
import { RpcError } from '@scoregate/rpc';

const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const PRINTABLE_ASCII = /^[\x20-\x7e]{1,128}$/;
const MAX_ENTITY_KEYS = 16;
const MAX_REQUEST_FEATURES = 256;
const MAX_BUDGET_MS = 60_000;

/** A Score request that passed validation. */
export interface ValidScoreRequest {
  readonly scorer: string;
  readonly entityKeys: readonly EntityKey[];
  readonly requestFeatures: Readonly<Record<string, FeatureValue>>;
  /** The request's own budget in ms, if it set one. */
  readonly budgetMs: number | undefined;
  readonly requestId: string;
}

/** Checks a Score request field by field; the first problem found is reported with its field. */
export function validateScoreRequest(request: ScoreRequest): ValidScoreRequest {
  if (request.scorer === '')
    throw RpcError.invalidArgument('scorer', 'is required (e.g. "truck-roll-priority")');
  if (!NAME.test(request.scorer)) {
    throw RpcError.invalidArgument(
      'scorer',
      `"${request.scorer}" is not a valid name: lower-case letters, digits, - and _, at most 63`,
    );
  }
  if (request.entityKeys.length === 0)
    throw RpcError.invalidArgument('entity_keys', 'at least one entity key is required');
  if (request.entityKeys.length > MAX_ENTITY_KEYS) {
    throw RpcError.invalidArgument(
      'entity_keys',
      `at most ${MAX_ENTITY_KEYS} entity keys, got ${request.entityKeys.length}`,
    );
  }
  const seenTypes = new Set<string>();
  request.entityKeys.forEach((entity, i) => {
    if (!NAME.test(entity.entityType)) {
      throw RpcError.invalidArgument(
        `entity_keys[${i}].entity_type`,
        entity.entityType === '' ? 'is required' : `"${entity.entityType}" is not a valid name`,
      );
    }
    const bytes = Buffer.byteLength(entity.key, 'utf8');
    if (bytes === 0) throw RpcError.invalidArgument(`entity_keys[${i}].key`, 'is required');
    if (bytes > 256)
      throw RpcError.invalidArgument(`entity_keys[${i}].key`, `is ${bytes} bytes; at most 256`);
    if (CONTROL.test(entity.key))
      throw RpcError.invalidArgument(
        `entity_keys[${i}].key`,
        'must not contain control characters',
      );
    if (seenTypes.has(entity.entityType)) {
      throw RpcError.invalidArgument(
        `entity_keys[${i}].entity_type`,
        `"${entity.entityType}" is given more than once`,
      );
    }
    seenTypes.add(entity.entityType);
  });
  const featureNames = Object.keys(request.requestFeatures);
  if (featureNames.length > MAX_REQUEST_FEATURES) {
    throw RpcError.invalidArgument(
      'request_features',
      `at most ${MAX_REQUEST_FEATURES} entries, got ${featureNames.length}`,
    );
  }
  for (const name of featureNames) {
    if (request.requestFeatures[name]?.kind.case === undefined) {
      throw RpcError.invalidArgument(`request_features["${name}"]`, 'has no value');
    }
  }
  let budgetMs: number | undefined;
  if (request.budget) {
    budgetMs = durationMs(request.budget);
    if (!(budgetMs > 0) || budgetMs > MAX_BUDGET_MS) {
      throw RpcError.invalidArgument(
        'budget',
        `must be positive and at most ${MAX_BUDGET_MS} ms, got ${budgetMs} ms`,
      );
    }
  }
  if (request.requestId !== '' && !PRINTABLE_ASCII.test(request.requestId)) {
    throw RpcError.invalidArgument('request_id', 'at most 128 characters of printable ASCII');
  }
  return {
    scorer: request.scorer,
    entityKeys: request.entityKeys,
    requestFeatures: request.requestFeatures,
    budgetMs,
    requestId: request.requestId || randomUUID(),
  };
}

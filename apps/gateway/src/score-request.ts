import { randomUUID } from 'node:crypto';
import { durationMs } from '@bufbuild/protobuf/wkt';
import type {
  EntityKey,
  FeatureValue,
  ScoreBatchRequest,
  ScoreRequest,
} from '@scoregate/contracts';
import { RpcError } from '@scoregate/rpc';
import { NAME_PATTERN, validateRequestFeatures } from './request-features.js';

const NAME = new RegExp(`^${NAME_PATTERN}$`);
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const PRINTABLE_ASCII = /^[\x20-\x7e]{1,128}$/;
const MAX_ENTITY_KEYS = 16;
const MAX_ENTITY_KEY_BYTES = 256;
const MAX_BUDGET_MS = 60_000;
const MAX_BATCH_ITEMS = 1000;

/** A Score request that passed validation. */
export interface ValidScoreRequest {
  readonly scorer: string;
  readonly entityKeys: readonly EntityKey[];
  readonly requestFeatures: Readonly<Record<string, FeatureValue>>;
  /** The request's own budget in ms, if it set one. */
  readonly budgetMs: number | undefined;
  readonly requestId: string;
}

/** The fields of a Score request that are validated (a ScoreBatch item has some of them). */
type ScoreRequestFields = Pick<
  ScoreRequest,
  'scorer' | 'entityKeys' | 'requestFeatures' | 'budget' | 'requestId'
>;

/** Checks a Score request field by field; the first problem found is reported with its field. */
export function validateScoreRequest(request: ScoreRequestFields): ValidScoreRequest {
  validateScorer(request.scorer);
  validateEntityKeys(request.entityKeys);
  validateRequestFeatures(request.requestFeatures, 'request_features');
  const budgetMs = validBudgetMs(request.budget);
  validateRequestId(request.requestId);
  return {
    scorer: request.scorer,
    entityKeys: request.entityKeys,
    requestFeatures: request.requestFeatures,
    budgetMs,
    requestId: request.requestId || randomUUID(),
  };
}

function validateScorer(scorer: string): void {
  if (scorer === '')
    throw RpcError.invalidArgument('scorer', 'is required (e.g. "truck-roll-priority")');
  if (!NAME.test(scorer)) {
    throw RpcError.invalidArgument(
      'scorer',
      `"${scorer}" is not a valid name: lower-case letters, digits, - and _, at most 63`,
    );
  }
}

function validateEntityKeys(entityKeys: readonly EntityKey[]): void {
  if (entityKeys.length === 0)
    throw RpcError.invalidArgument('entity_keys', 'at least one entity key is required');
  if (entityKeys.length > MAX_ENTITY_KEYS) {
    throw RpcError.invalidArgument(
      'entity_keys',
      `at most ${MAX_ENTITY_KEYS} entity keys, got ${entityKeys.length}`,
    );
  }
  const seenTypes = new Set<string>();
  entityKeys.forEach((entity, i) => {
    validateEntityKey(entity, `entity_keys[${i}]`);
    if (seenTypes.has(entity.entityType)) {
      throw RpcError.invalidArgument(
        `entity_keys[${i}].entity_type`,
        `"${entity.entityType}" is given more than once`,
      );
    }
    seenTypes.add(entity.entityType);
  });
}

/** One entity key: a valid type name, and a key of 1 to 256 bytes without control characters. */
function validateEntityKey(entity: EntityKey, field: string): void {
  if (!NAME.test(entity.entityType)) {
    throw RpcError.invalidArgument(
      `${field}.entity_type`,
      entity.entityType === '' ? 'is required' : `"${entity.entityType}" is not a valid name`,
    );
  }
  const bytes = Buffer.byteLength(entity.key, 'utf8');
  if (bytes === 0) throw RpcError.invalidArgument(`${field}.key`, 'is required');
  if (bytes > MAX_ENTITY_KEY_BYTES) {
    throw RpcError.invalidArgument(
      `${field}.key`,
      `is ${bytes} bytes; at most ${MAX_ENTITY_KEY_BYTES}`,
    );
  }
  if (CONTROL.test(entity.key))
    throw RpcError.invalidArgument(`${field}.key`, 'must not contain control characters');
}

/** The request's own budget in ms (undefined when it sets none), at most MAX_BUDGET_MS. */
function validBudgetMs(budget: ScoreRequest['budget']): number | undefined {
  if (!budget) return undefined;
  const budgetMs = durationMs(budget);
  if (!(budgetMs > 0) || budgetMs > MAX_BUDGET_MS) {
    throw RpcError.invalidArgument(
      'budget',
      `must be positive and at most ${MAX_BUDGET_MS} ms, got ${budgetMs} ms`,
    );
  }
  return budgetMs;
}

function validateRequestId(requestId: string): void {
  if (requestId !== '' && !PRINTABLE_ASCII.test(requestId)) {
    throw RpcError.invalidArgument('request_id', 'at most 128 characters of printable ASCII');
  }
}

/** A ScoreBatch request that passed validation: its scorer, budget and id, and each item. */
export interface ValidScoreBatchRequest {
  readonly head: ValidScoreRequest;
  readonly items: readonly ValidScoreRequest[];
}

/**
 * Checks a ScoreBatch request: 1 to 1000 items, each following the rules of a Score request. The
 * batch's scorer, budget and id are checked once, together with the first item's entity keys
 * (whose errors therefore name `entity_keys`); an item's other errors name `items[i]`.
 */
export function validateScoreBatchRequest(request: ScoreBatchRequest): ValidScoreBatchRequest {
  if (request.items.length === 0)
    throw RpcError.invalidArgument('items', 'at least one item is required');
  if (request.items.length > MAX_BATCH_ITEMS) {
    throw RpcError.invalidArgument(
      'items',
      `at most ${MAX_BATCH_ITEMS} items, got ${request.items.length}`,
    );
  }
  const head = validateScoreRequest({
    scorer: request.scorer,
    entityKeys: request.items[0]!.entityKeys,
    requestFeatures: {},
    budget: request.budget,
    requestId: request.requestId,
  });
  const items = request.items.map((item, i) => {
    try {
      return validateScoreRequest({
        scorer: request.scorer,
        entityKeys: item.entityKeys,
        requestFeatures: item.requestFeatures,
        requestId: head.requestId,
      });
    } catch (error) {
      throw RpcError.invalidArgument(`items[${i}]`, RpcError.from(error).message);
    }
  });
  return { head, items };
}

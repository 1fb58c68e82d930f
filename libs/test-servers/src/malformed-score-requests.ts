import { create, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { ScoreRequestSchema, type ScoreRequest } from '@scoregate/contracts';
import { seededRandom } from './seeded-random.js';

/**
 * How a malformed Score request is made: bytes that are mostly no protobuf at all, a valid
 * request cut short, or a valid encoding with one field the contract refuses.
 */
export type MalformedKind = 'random-bytes' | 'truncated' | 'bad-field';

export interface MalformedRequest {
  readonly kind: MalformedKind;
  /** The request body as sent on the wire (the gRPC message, without its frame header). */
  readonly bytes: Buffer;
}

/** A Score request as a plain object (not a message), so that one field can be replaced. */
type ScoreRequestInit = Exclude<MessageInitShape<typeof ScoreRequestSchema>, ScoreRequest>;
type Random = () => number;

const below = (random: Random, n: number) => Math.floor(random() * n);

function randomBytes(random: Random, maxLength: number): Buffer {
  const bytes = Buffer.alloc(1 + below(random, maxLength));
  for (let i = 0; i < bytes.length; i++) bytes[i] = below(random, 256);
  return bytes;
}

/** Text of random code points (letters, spaces, symbols, other scripts): never a valid name. */
function randomText(random: Random, maxLength: number): string {
  const length = 1 + below(random, maxLength);
  const points = Array.from({ length }, () => 0x20 + below(random, 0x2fe0));
  return `${String.fromCodePoint(...points)}!`;
}

/** A request the gateway would score, with a key and a feature that vary. */
function validRequest(random: Random, scorer: string): ScoreRequestInit {
  return {
    scorer,
    entityKeys: [{ entityType: 'customer', key: `c-${String(1 + below(random, 9999))}` }],
    requestFeatures: {},
    requestId: `r-${below(random, 1e9)}`,
  };
}

/** One field per entry set to what the contract refuses (or, for a scorer, does not know). */
const BAD_FIELDS: readonly ((random: Random, base: ScoreRequestInit) => ScoreRequestInit)[] = [
  (random, base) => ({ ...base, scorer: randomText(random, 80) }),
  (random, base) => ({ ...base, scorer: `unknown-${below(random, 1e9)}` }),
  (_, base) => ({ ...base, scorer: '' }),
  (_, base) => ({ ...base, entityKeys: [] }),
  (random, base) => ({
    ...base,
    entityKeys: Array.from({ length: 17 + below(random, 16) }, (_, i) => ({
      entityType: `t${i}`,
      key: 'k',
    })),
  }),
  (random, base) => ({
    ...base,
    entityKeys: [{ entityType: 'customer', key: 'x'.repeat(257 + below(random, 500)) }],
  }),
  (random, base) => ({
    ...base,
    entityKeys: [{ entityType: randomText(random, 40), key: 'c-0001' }],
  }),
  (random, base) => ({
    ...base,
    requestFeatures: {
      'customer_stats:signal_snr_db': {
        kind: { case: 'doubleValue', value: [NaN, Infinity, -Infinity][below(random, 3)]! },
      },
    },
  }),
  (random, base) => ({
    ...base,
    requestFeatures: { [randomText(random, 30)]: { kind: { case: 'int64Value', value: 1n } } },
  }),
  (random, base) => ({
    ...base,
    requestFeatures: {
      [`unknown_${below(random, 1e9)}`]: { kind: { case: 'boolValue', value: true } },
    },
  }),
  (random, base) => ({
    ...base,
    budget: { seconds: BigInt(below(random, 2) === 0 ? -1 : 3_600 + below(random, 1e6)) },
  }),
  (random, base) => ({ ...base, requestId: randomText(random, 200) }),
];

/**
 * An endless, seeded stream of malformed Score requests: 40% random bytes (up to 512), 30% a
 * valid request for `scorer` cut short at a random byte, 30% a valid encoding with one bad field
 * (a name that is no name, an unknown scorer or feature, NaN, too many or too long keys, a
 * negative budget, a request id of other scripts). Random values make the names, keys and error
 * messages differ from call to call, as a careless or hostile client's would.
 */
export function createMalformedScoreRequests(
  seed: number,
  scorer = 'truck-roll-priority',
): () => MalformedRequest {
  const random = seededRandom(seed);
  const encode = (init: ScoreRequestInit) =>
    Buffer.from(toBinary(ScoreRequestSchema, create(ScoreRequestSchema, init)));
  return () => {
    const roll = random();
    if (roll < 0.4) return { kind: 'random-bytes', bytes: randomBytes(random, 512) };
    const base = validRequest(random, scorer);
    if (roll < 0.7) {
      const whole = encode(base);
      return { kind: 'truncated', bytes: whole.subarray(0, 1 + below(random, whole.length - 1)) };
    }
    const bad = BAD_FIELDS[below(random, BAD_FIELDS.length)]!;
    return { kind: 'bad-field', bytes: encode(bad(random, base)) };
  };
}

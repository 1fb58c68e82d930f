import fc from 'fast-check';

/**
 * Field values for valid-shaped messages: mostly from a small realistic pool (so that requests
 * reach the handlers' deeper paths), mixed with hostile ones.
 */

/** Strings no well-behaved client sends: empty, huge, control characters, any Unicode. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.constant(''),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 24 }),
  // Any code point, lone surrogates included (encoded as U+FFFD by protobuf).
  fc.string({ unit: 'binary', maxLength: 24 }),
  fc.string({
    unit: fc.integer({ min: 0, max: 31 }).map((c) => String.fromCharCode(c)),
    maxLength: 8,
  }),
  fc.constantFrom(
    '__proto__',
    'constructor',
    'toString',
    'hasOwnProperty',
    'view:feature:extra',
    ':',
    'customer_stats:',
    '../../../etc/passwd',
    'a\u0000b',
    '%s%n%x',
    '${process.exit()}',
    ' customer ',
    'CUSTOMER',
    '\u202Ecustomer',
    '😀',
  ),
  // Past every documented length limit (names 63, keys 256, reasons 1024, strings 4096 bytes).
  fc.constantFrom(64, 257, 1025, 4097, 70_000).map((n) => 'a'.repeat(n)),
);

/** A name from `pool`, or (one time in ten) a hostile string. */
export function nameFrom(pool: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 9, arbitrary: fc.constantFrom(...pool) },
    { weight: 1, arbitrary: hostileString },
  );
}

/** Doubles including NaN, ±Infinity, -0, the extremes and subnormals. */
export const hostileDouble: fc.Arbitrary<number> = fc.oneof(
  { weight: 8, arbitrary: fc.double({ min: -1000, max: 1000, noNaN: true }) },
  { weight: 1, arbitrary: fc.double() },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      -0,
      Number.MAX_VALUE,
      -Number.MAX_VALUE,
      Number.MIN_VALUE,
      2 ** 53 + 1,
    ),
  },
);

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Signed 64-bit integers, small ones most often. */
export const hostileInt64: fc.Arbitrary<bigint> = fc.oneof(
  { weight: 3, arbitrary: fc.bigInt({ min: -100n, max: 1000n }) },
  { weight: 1, arbitrary: fc.bigInt({ min: INT64_MIN, max: INT64_MAX }) },
  { weight: 1, arbitrary: fc.constantFrom(INT64_MIN, INT64_MAX, -1n, 0n, 2n ** 53n + 1n) },
);

/** Signed 32-bit integers (page sizes and the like). */
export const hostileInt32: fc.Arbitrary<number> = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: -2, max: 1200 }) },
  { weight: 1, arbitrary: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }) },
);

/** A google.protobuf.Duration or Timestamp shape: valid, negative, or out of range. */
export function secondsAndNanos(realisticSeconds: fc.Arbitrary<bigint>) {
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        seconds: realisticSeconds,
        nanos: fc.integer({ min: 0, max: 999_999_999 }),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        seconds: hostileInt64,
        nanos: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      }),
    },
  );
}

export const hostileDuration = secondsAndNanos(fc.bigInt({ min: 0n, max: 10n }));

/** Event times around now (within a day), or anywhere in (and past) the Timestamp range. */
export const hostileTimestamp = secondsAndNanos(
  fc.integer({ min: -86_400, max: 600 }).map((ago) => BigInt(Math.floor(Date.now() / 1000) + ago)),
);

/**
 * A repeated field: usually a few items, sometimes none, sometimes more than any limit allows
 * (`over.count` items of `over.item`, a cheap one: limits multiply when fields nest).
 */
export function repeated<T>(
  item: fc.Arbitrary<T>,
  maxUsual: number,
  over?: { count: number; item?: fc.Arbitrary<T> },
): fc.Arbitrary<T[]> {
  const shapes: fc.WeightedArbitrary<T[]>[] = [
    { weight: 10, arbitrary: fc.array(item, { minLength: 1, maxLength: maxUsual }) },
    { weight: 1, arbitrary: fc.constant([]) },
  ];
  if (over !== undefined) {
    const { count, item: overItem = item } = over;
    shapes.push({
      weight: 1,
      arbitrary: fc.array(overItem, { minLength: count, maxLength: count + 2 }),
    });
  }
  return fc.oneof(...shapes);
}

/** A string-keyed map as an object with own properties only (so `__proto__` stays a key). */
export function mapOf<V>(
  key: fc.Arbitrary<string>,
  value: fc.Arbitrary<V>,
  maxUsual: number,
  over?: { count: number; key: fc.Arbitrary<string> },
): fc.Arbitrary<Record<string, V>> {
  const overEntries = over && { count: over.count, item: fc.tuple(over.key, value) };
  return repeated(fc.tuple(key, value), maxUsual, overEntries).map((entries) =>
    Object.fromEntries(entries),
  );
}

/** Sometimes absent: how a client leaves out a required field. */
export function maybe<T>(value: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.option(value, { nil: undefined, freq: 12 });
}

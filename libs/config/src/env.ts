import { z } from 'zod';

/**
 * Building blocks for environment schemas. Each parses a string (or undefined when unset) into a
 * typed value, with a default where one makes sense.
 */
export const env = {
  /** A TCP port, 0..65535 (0 asks the OS for a free one). */
  port: (fallback: number) =>
    z.coerce
      .number({ error: 'must be a number' })
      .int('must be an integer')
      .min(0, 'must be >= 0')
      .max(65535, 'must be <= 65535')
      .default(fallback),

  /** A positive integer, e.g. a size or a count. */
  positiveInt: (fallback: number) =>
    z.coerce
      .number({ error: 'must be a number' })
      .int('must be an integer')
      .positive('must be > 0')
      .default(fallback),

  /** A duration in milliseconds. */
  millis: (fallback: number) =>
    z.coerce
      .number({ error: 'must be a number of milliseconds' })
      .min(0, 'must be >= 0')
      .default(fallback),

  /** A number >= 0, e.g. a multiple or a share. */
  nonNegative: (fallback: number) =>
    z.coerce.number({ error: 'must be a number' }).min(0, 'must be >= 0').default(fallback),

  /** A host:port address, e.g. 127.0.0.1:50052 or dns:///scoring:50053. */
  address: (fallback: string) =>
    z
      .string()
      .regex(/^(dns:\/\/\/)?[A-Za-z0-9._\-[\]:]+:\d{1,5}$/, 'must be host:port')
      .default(fallback),

  /** Free text with a default. */
  string: (fallback: string) => z.string().min(1, 'must not be empty').default(fallback),

  /** Optional free text. */
  optionalString: () => z.string().min(1).optional(),

  /** One of a fixed set of words. */
  oneOf: <const T extends readonly [string, ...string[]]>(values: T, fallback: T[number]) =>
    z.enum(values, { error: `must be one of ${values.join(', ')}` }).default(fallback),

  /** true/false, 1/0, yes/no. */
  flag: (fallback: boolean) =>
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
      .transform((v) => v === 'true' || v === '1' || v === 'yes')
      .default(fallback),
};

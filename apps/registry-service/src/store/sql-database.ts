/** A SQL value as both drivers accept and return it. */
export type SqlValue = string | number | bigint | boolean | Uint8Array | null;
export type SqlRow = Record<string, SqlValue>;

/** Runs statements; placeholders are `$1`, `$2`, … in both dialects. */
export interface SqlExecutor {
  query(sql: string, params?: readonly SqlValue[]): Promise<SqlRow[]>;
}

export interface TransactionOptions {
  /** A consistent read of several tables (a snapshot); no writes. */
  readonly readOnly?: boolean;
}

/**
 * The part of SQLite and PostgreSQL the registry needs. A write transaction is exclusive among
 * the registry's writers: SQLite takes the database's write lock at BEGIN IMMEDIATE, PostgreSQL
 * takes the revision row lock as the first statement (see write-transaction.ts).
 */
export interface SqlDatabase extends SqlExecutor {
  readonly dialect: 'sqlite' | 'postgres';
  /** Where the data lives, for logs (never with a password). */
  readonly location: string;
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>, options?: TransactionOptions): Promise<T>;
  close(): Promise<void>;
}

/** A unique or primary-key constraint refused a row (both drivers). */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: unknown; errcode?: unknown; message?: unknown } | null;
  if (e?.code === '23505') return true; // PostgreSQL unique_violation
  return typeof e?.message === 'string' && /UNIQUE constraint failed/.test(e.message);
}

/** Another transaction got in the way (PostgreSQL serialization failure or deadlock, SQLite busy). */
export function isTransientConflict(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  if (e?.code === '40001' || e?.code === '40P01') return true;
  return typeof e?.message === 'string' && /database is locked|SQLITE_BUSY/.test(e.message);
}

/** Converts a driver integer (number, bigint or PostgreSQL's int8 text) to bigint. */
export function toBigInt(value: SqlValue | undefined): bigint {
  if (value === null || value === undefined) return 0n;
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' || typeof value === 'string') return BigInt(value);
  throw new TypeError(`not an integer: ${String(value)}`);
}

export function toNumber(value: SqlValue | undefined): number {
  return Number(toBigInt(value));
}

export function toBytes(value: SqlValue | undefined): Uint8Array {
  if (value instanceof Uint8Array) return value;
  throw new TypeError('not a byte array');
}

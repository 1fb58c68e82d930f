import { readFile, stat } from 'node:fs/promises';
import { RpcError } from '@scoregate/rpc';

/** The catalogue files are wrong; the message names the file and the entry at fault. */
export class CatalogueError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CatalogueError';
  }
}

/**
 * Runs the service's own checks (those of an RPC) on an entry parsed from `file`: the RpcError
 * naming the field at fault becomes a CatalogueError naming the file too.
 */
export async function applyServiceRules(
  file: string,
  rules: () => void | Promise<void>,
): Promise<void> {
  try {
    await rules();
  } catch (error) {
    if (!(error instanceof RpcError)) throw error;
    throw new CatalogueError(`${file}: ${error.message}`, { cause: error });
  }
}

/** A catalogue file's JSON and its modification time (the time its entries were set). */
export async function readJson(file: string): Promise<{ json: unknown; mtime: Date }> {
  let text: string;
  let mtime: Date;
  try {
    [text, { mtime }] = await Promise.all([readFile(file, 'utf8'), stat(file)]);
  } catch (error) {
    throw new CatalogueError(`${file}: cannot read: ${(error as Error).message}`, { cause: error });
  }
  try {
    return { json: JSON.parse(text), mtime };
  } catch (error) {
    throw new CatalogueError(`${file}: not valid JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Type checks of JSON values that fail with `file: where: why`. */
export interface Checker {
  fail(at: string, reason: string): never;
  object(value: unknown, at: string): Record<string, unknown>;
  array(value: unknown, at: string): unknown[];
  string(value: unknown, at: string): string;
  optionalString(value: unknown, at: string): string | undefined;
  number(value: unknown, at: string): number;
  integer(value: unknown, at: string): number;
}

export function checker(file: string): Checker {
  const fail = (at: string, reason: string): never => {
    throw new CatalogueError(`${file}: ${at}: ${reason}`);
  };
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  return {
    fail,
    object: (v: unknown, at: string) => (isObject(v) ? v : fail(at, 'must be an object')),
    array: (v: unknown, at: string) =>
      Array.isArray(v) ? (v as unknown[]) : fail(at, 'must be an array'),
    string: (v: unknown, at: string) =>
      typeof v === 'string' && v !== '' ? v : fail(at, 'must be a non-empty string'),
    optionalString: (v: unknown, at: string) =>
      v === undefined || typeof v === 'string' ? v : fail(at, 'must be a string'),
    number: (v: unknown, at: string) =>
      typeof v === 'number' && Number.isFinite(v) ? v : fail(at, 'must be a finite number'),
    integer: (v: unknown, at: string) =>
      Number.isSafeInteger(v) ? (v as number) : fail(at, 'must be an integer'),
  };
}

/** Names for an error message: `a, b` or `none`. */
export function listOf(names: Iterable<string>): string {
  const list = [...names];
  return list.length === 0 ? 'none' : list.join(', ');
}

import {
  status as GrpcStatus,
  Metadata,
  type ServiceError,
  type StatusObject,
} from '@grpc/grpc-js';

/** gRPC status codes (the canonical numbering, shared by every gRPC implementation). */
export const Code = GrpcStatus;
export type Code = GrpcStatus;

/** A field of a request that is wrong, and why (mirrors google.rpc.BadRequest.FieldViolation). */
export interface FieldViolation {
  readonly field: string;
  readonly description: string;
}

export interface RpcErrorOptions {
  /** Field-level reasons for INVALID_ARGUMENT; sent to the client in trailing metadata. */
  readonly violations?: readonly FieldViolation[];
  /** Extra trailing metadata (ASCII values). */
  readonly trailers?: Readonly<Record<string, string>>;
  /** The original error, kept for logs; never sent over the wire. */
  readonly cause?: unknown;
}

const VIOLATIONS_KEY = 'scoregate-field-violations-bin';

/**
 * Longest status message, violation field or description sent, in UTF-8 bytes. Messages quote
 * client input; trailers past the HTTP/2 header limit make the client drop the whole connection
 * (every call on it fails with INTERNAL "Protocol error"), so longer text is cut.
 */
const MAX_SENT_TEXT_BYTES = 1024;

/**
 * The one error type that crosses service boundaries: a status code first, then a message a
 * person can act on, then optional structured details. Handlers throw it; clients receive it.
 */
export class RpcError extends Error {
  readonly code: Code;
  readonly violations: readonly FieldViolation[];
  readonly trailers: Readonly<Record<string, string>>;

  constructor(code: Code, message: string, options: RpcErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RpcError';
    this.code = code;
    this.violations = options.violations ?? [];
    this.trailers = options.trailers ?? {};
  }

  /** INVALID_ARGUMENT naming the field at fault: message `field: description`. */
  static invalidArgument(field: string, description: string): RpcError {
    return new RpcError(Code.INVALID_ARGUMENT, `${field}: ${description}`, {
      violations: [{ field, description }],
    });
  }

  static notFound(message: string): RpcError {
    return new RpcError(Code.NOT_FOUND, message);
  }

  static unimplemented(message: string): RpcError {
    return new RpcError(Code.UNIMPLEMENTED, message);
  }

  /** Converts anything thrown by a handler into an RpcError; unknown errors become INTERNAL. */
  static from(error: unknown): RpcError {
    if (error instanceof RpcError) return error;
    if (isServiceError(error)) return fromServiceError(error);
    if (error instanceof Error && error.name === 'AbortError') {
      return new RpcError(Code.CANCELLED, 'the call was cancelled', { cause: error });
    }
    return new RpcError(Code.INTERNAL, 'internal error', { cause: error });
  }

  /** The status object grpc-js sends for this error. */
  toStatus(): Partial<StatusObject> {
    const metadata = new Metadata();
    for (const [key, value] of Object.entries(this.trailers)) metadata.set(key, value);
    if (this.violations.length > 0) {
      const sent = this.violations.map(({ field, description }) => ({
        field: bounded(field),
        description: bounded(description),
      }));
      metadata.set(VIOLATIONS_KEY, Buffer.from(JSON.stringify(sent), 'utf8'));
    }
    return { code: this.code, details: bounded(this.message), metadata };
  }
}

/** `text`, or its first MAX_SENT_TEXT_BYTES bytes (whole characters) saying how much was cut. */
function bounded(text: string): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= MAX_SENT_TEXT_BYTES) return text;
  // A character split by the cut decodes as U+FFFD: drop it.
  const kept = bytes
    .subarray(0, MAX_SENT_TEXT_BYTES)
    .toString('utf8')
    .replace(/\uFFFD$/, '');
  return `${kept}… (cut: ${bytes.length - Buffer.byteLength(kept)} more bytes)`;
}

function isServiceError(error: unknown): error is ServiceError {
  return (
    error instanceof Error &&
    typeof (error as Partial<ServiceError>).code === 'number' &&
    'details' in error &&
    'metadata' in error
  );
}

function fromServiceError(error: ServiceError): RpcError {
  const trailers: Record<string, string> = {};
  let violations: FieldViolation[] = [];
  for (const [key, value] of Object.entries(error.metadata?.getMap() ?? {})) {
    if (key === VIOLATIONS_KEY && Buffer.isBuffer(value)) {
      violations = parseViolations(value);
    } else if (typeof value === 'string') {
      trailers[key] = value;
    }
  }
  return new RpcError(error.code, error.details || error.message, {
    violations,
    trailers,
    cause: error,
  });
}

function parseViolations(value: Buffer): FieldViolation[] {
  try {
    const parsed: unknown = JSON.parse(value.toString('utf8'));
    return Array.isArray(parsed) ? (parsed as FieldViolation[]) : [];
  } catch {
    return [];
  }
}

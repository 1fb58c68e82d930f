import { Client, Metadata } from '@grpc/grpc-js';
import { channelCredentials, type TlsOptions } from './credentials.js';
import { Code } from './rpc-error.js';

/** How a call ended: its status code and message (OK with an empty message when it succeeded). */
export interface RawCallStatus {
  readonly code: Code;
  readonly details: string;
}

/**
 * A client that sends a unary method's request bytes exactly as given, for what a typed client
 * cannot send: undecodable or truncated messages (tests, fuzzing, the garbage benchmark).
 */
export interface RawClient {
  /** Calls `path` (e.g. `/scoregate.gateway.v1.ScoreService/Score`) with `bytes` as the request. */
  unary(path: string, bytes: Uint8Array, timeoutMs: number): Promise<RawCallStatus>;
  close(): void;
}

const asIs = (bytes: Buffer) => bytes;

export function createRawClient(address: string, tls?: TlsOptions): RawClient {
  const client = new Client(address, channelCredentials(tls));
  return {
    unary: (path, bytes, timeoutMs) =>
      new Promise<RawCallStatus>((resolve) =>
        client.makeUnaryRequest(
          path,
          asIs,
          asIs,
          Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
          new Metadata(),
          { deadline: Date.now() + timeoutMs },
          (error) =>
            resolve(
              error ? { code: error.code, details: error.details } : { code: Code.OK, details: '' },
            ),
        ),
      ),
    close: () => client.close(),
  };
}

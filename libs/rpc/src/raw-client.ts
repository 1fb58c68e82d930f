import { Client, Metadata, type ServiceError } from '@grpc/grpc-js';
import { channelCredentials, type TlsOptions } from './credentials.js';
import { Code } from './rpc-error.js';

export interface RawClientOptions {
  /** `host:port` of the server. */
  readonly address: string;
  /** TLS to the server (with a client certificate for mTLS). Plaintext when absent. */
  readonly tls?: TlsOptions;
  /** Largest message sent or received, in bytes. Default 64 MiB, so the server's limit decides. */
  readonly maxMessageBytes?: number;
}

/** How a call ended: its status, and the response messages' bytes as received. */
export interface RawAnswer {
  readonly code: Code;
  readonly details: string;
  readonly messages: readonly Buffer[];
}

export interface RawCallOptions {
  /** The call's deadline, from now (ms). */
  readonly timeoutMs: number;
  /** A response stream is cancelled after this many messages (the answer is then OK). */
  readonly maxMessages?: number;
}

/**
 * A gRPC client that sends request bytes exactly as given and hands back response bytes
 * undecoded, for any method path of any service: for tests that send what no typed client would
 * (undecodable, truncated or oversized messages) and look only at the status.
 */
export interface RawClient {
  unary(path: string, request: Uint8Array, options: RawCallOptions): Promise<RawAnswer>;
  /** A client-streaming call: every request in order, then half-close. */
  clientStream(path: string, requests: Uint8Array[], options: RawCallOptions): Promise<RawAnswer>;
  /** A server-streaming call, read until it ends or `maxMessages` arrived. */
  serverStream(path: string, request: Uint8Array, options: RawCallOptions): Promise<RawAnswer>;
  close(): void;
}

const identity = (bytes: Buffer): Buffer => bytes;

export function createRawClient(options: RawClientOptions): RawClient {
  const max = options.maxMessageBytes ?? 64 * 1024 * 1024;
  const client = new Client(options.address, channelCredentials(options.tls), {
    'grpc.max_send_message_length': max,
    'grpc.max_receive_message_length': max,
  });
  return {
    unary: (path, request, call) =>
      new Promise((resolve) => {
        const [bytes, metadata, options] = [
          Buffer.from(request),
          new Metadata(),
          callOptions(call),
        ];
        client.makeUnaryRequest(
          path,
          identity,
          identity,
          bytes,
          metadata,
          options,
          settle(resolve),
        );
      }),
    clientStream: (path, requests, call) =>
      new Promise((resolve) => {
        const stream = client.makeClientStreamRequest(
          path,
          identity,
          identity,
          new Metadata(),
          callOptions(call),
          settle(resolve),
        );
        // A server that answers early closes the stream; later writes are then dropped.
        stream.on('error', () => {});
        for (const request of requests) stream.write(Buffer.from(request));
        stream.end();
      }),
    serverStream: (path, request, call) => serverStream(client, path, request, call),
    close: () => client.close(),
  };
}

function serverStream(
  client: Client,
  path: string,
  request: Uint8Array,
  call: RawCallOptions,
): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const messages: Buffer[] = [];
    const done = settle(resolve, messages);
    const stream = client.makeServerStreamRequest(
      path,
      identity,
      identity,
      Buffer.from(request),
      new Metadata(),
      callOptions(call),
    );
    stream.on('data', (message: Buffer) => {
      messages.push(message);
      if (messages.length === call.maxMessages) {
        stream.cancel();
        done(null);
      }
    });
    stream.on('error', (error: ServiceError) => done(error));
    stream.on('end', () => done(null));
  });
}

const callOptions = ({ timeoutMs }: RawCallOptions) => ({ deadline: Date.now() + timeoutMs });

/** Resolves with the call's status (the first report wins; a promise settles once). */
function settle(resolve: (answer: RawAnswer) => void, messages: Buffer[] = []) {
  return (error: ServiceError | null, reply?: Buffer) => {
    if (error) resolve({ code: error.code, details: error.details, messages });
    else resolve({ code: Code.OK, details: '', messages: reply ? [reply] : messages });
  };
}

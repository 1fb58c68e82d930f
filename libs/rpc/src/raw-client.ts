import { Client } from '@grpc/grpc-js';
import { channelCredentials, type TlsOptions } from './credentials.js';
import { RpcError } from './rpc-error.js';

/** A client that sends bytes as they are: for fuzzing, soaks and tools that send what no encoder would. */
export interface RawRpcClient {
  /** Calls `path` (`/package.Service/Method`) with `payload`; resolves with the reply's bytes. */
  call(path: string, payload: Uint8Array, timeoutMs: number): Promise<Uint8Array>;
  close(): void;
}

export function createRawRpcClient(address: string, tls?: TlsOptions): RawRpcClient {
  const client = new Client(address, channelCredentials(tls));
  const identity = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  return {
    call: (path, payload, timeoutMs) =>
      new Promise((resolve, reject) => {
        client.makeUnaryRequest(
          path,
          identity,
          identity,
          payload,
          { deadline: Date.now() + timeoutMs },
          (error, reply) =>
            error ? reject(RpcError.from(error)) : resolve(reply ?? new Uint8Array()),
        );
      }),
    close: () => client.close(),
  };
}

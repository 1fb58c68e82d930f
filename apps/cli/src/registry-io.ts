import { Code, createRpcClient, RpcError, type RpcClient } from '@scoregate/rpc';
import { RegistryService } from '@scoregate/contracts';
import { tlsTo } from './tls.js';

/** Where a command prints: stdout for results, stderr for progress and errors. */
export interface CommandIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** The terminal stream the upload progress bar draws on. */
  readonly progress: NodeJS.WritableStream;
}

export const processIo: CommandIo = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
  progress: process.stderr,
};

export const DEFAULT_REGISTRY_ADDRESS = '127.0.0.1:50054';
/** Upload chunks: well under the registry's 1 MiB limit per message. */
export const UPLOAD_CHUNK_BYTES = 256 * 1024;

/**
 * Runs one command against the registry: prints a refused call as `error: STATUS message` and
 * returns the exit code (0 ok, 1 refused).
 */
export async function withRegistry(
  address: string,
  io: CommandIo,
  work: (client: RpcClient<typeof RegistryService>) => Promise<void>,
): Promise<number> {
  const client = createRpcClient(RegistryService, {
    address,
    ...tlsTo('registry-service'),
    defaultTimeoutMs: 30_000,
    maxSendMessageBytes: 2 * 1024 * 1024,
  });
  try {
    await work(client);
    return 0;
  } catch (error) {
    const rpcError = RpcError.from(error);
    const message =
      rpcError.code === Code.INTERNAL && !(error instanceof RpcError)
        ? (error as Error).message
        : rpcError.message;
    io.err(`error: ${Code[rpcError.code]} ${message}`);
    return 1;
  } finally {
    client.close();
  }
}

/** A local failure before any call (bad file, bad JSON): exit code 2, like a usage error. */
export class CommandInputError extends Error {}

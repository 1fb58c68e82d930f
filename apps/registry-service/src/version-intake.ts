import { createHash } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import type { ModelVersion, UploadHeader, UploadModelVersionRequest } from '@scoregate/contracts';
import { Code, RpcError } from '@scoregate/rpc';
import type { ArtifactStore } from './artifact-store.js';
import { externalDataLocations, locationEscape } from './onnx-external-data.js';
import type { RegistryStore } from './store/registry-store.js';
import { checkUploadHeader, signatureMismatches } from './version-spec.js';

/** Largest chunk an upload may carry (the proto's limit). */
export const MAX_CHUNK_BYTES = 1024 * 1024;

export interface VersionIntakeOptions {
  readonly store: RegistryStore;
  readonly artifacts: ArtifactStore;
  /** Largest artifact accepted (RESOURCE_EXHAUSTED beyond it). */
  readonly maxUploadBytes: number;
}

export interface IngestOptions {
  /**
   * Load the model in onnxruntime and compare its signature (default true). The catalogue import
   * turns it off: its fixtures are pinned by digest in a manifest generated with their golden
   * predictions, and loading onnxruntime would slow every fresh start of the stack.
   */
  readonly loadCheck?: boolean;
}

export interface IntakeResult {
  readonly version: ModelVersion;
  readonly revision: bigint;
  readonly alreadyExisted: boolean;
}

/**
 * Registers model versions from streamed bytes. The bytes go to a private staging file while they
 * are counted and hashed; the version is committed only when the stream is complete, the size and
 * sha256 are the declared ones, the ONNX model refers to no external data outside its folder,
 * loads in onnxruntime and has the declared signature. Whatever is refused, or abandoned by the
 * client, leaves no row and no file.
 */
export interface VersionIntake {
  /** UploadModelVersion: the header message, then chunk messages. */
  upload(
    requests: AsyncIterable<UploadModelVersionRequest>,
    signal: AbortSignal,
  ): Promise<IntakeResult>;
  /** The same, for bytes that come with their header from elsewhere (the demo catalogue import). */
  ingest(
    header: UploadHeader,
    chunks: AsyncIterable<Uint8Array>,
    signal: AbortSignal,
    options?: IngestOptions,
  ): Promise<IntakeResult>;
}

export function createVersionIntake(options: VersionIntakeOptions): VersionIntake {
  return {
    async upload(requests, signal) {
      const messages = requests[Symbol.asyncIterator]();
      const first = await nextOrAbort(messages, signal);
      if (first.done || first.value.content.case !== 'header')
        throw RpcError.invalidArgument(
          'header',
          'the first message of an upload must be the header',
        );
      return ingest(options, first.value.content.value, chunksOf(messages, signal), signal);
    },
    ingest: (header, chunks, signal, ingestOptions) =>
      ingest(options, header, chunks[Symbol.asyncIterator](), signal, ingestOptions),
  };
}

/** The chunk messages that follow an upload's header, as bytes. */
function chunksOf(
  messages: AsyncIterator<UploadModelVersionRequest>,
  signal: AbortSignal,
): AsyncIterator<Uint8Array> {
  return {
    async next() {
      const message = await nextOrAbort(messages, signal);
      if (message.done) return { done: true, value: undefined };
      if (message.value.content.case !== 'chunk')
        throw RpcError.invalidArgument(
          'header',
          'only the first message of an upload may be a header',
        );
      return { done: false, value: message.value.content.value };
    },
  };
}

async function ingest(
  { store, artifacts, maxUploadBytes }: VersionIntakeOptions,
  header: UploadHeader,
  chunks: AsyncIterator<Uint8Array>,
  signal: AbortSignal,
  ingestOptions: IngestOptions = {},
): Promise<IntakeResult> {
  checkUploadHeader(header, maxUploadBytes);
  const staged = await artifacts.stage();
  try {
    const { received, sha256 } = await receive(staged.file, header, chunks, signal);
    if (received < header.sizeBytes) {
      throw RpcError.invalidArgument(
        'chunk',
        `the upload ended after ${received} of the ${header.sizeBytes} bytes declared in header.size_bytes; nothing was registered`,
      );
    }
    if (sha256 !== header.sha256) {
      throw RpcError.invalidArgument(
        'header.sha256',
        `the received ${received} bytes have sha256 ${sha256}, not the declared ${header.sha256}; nothing was registered`,
      );
    }
    const existing = (await store.versionsWithSha256(sha256)).find((v) => v.model === header.model);
    if (existing)
      return { version: existing, revision: await store.revision(), alreadyExisted: true };

    await checkOnnx(staged.file, header, ingestOptions.loadCheck ?? true);
    throwIfAborted(signal);
    return await store.registerVersion({
      model: header.model,
      modelDescription: header.modelDescription,
      sha256,
      sizeBytes: header.sizeBytes,
      spec: header.spec!,
      registeredBy: header.registeredBy || 'anonymous',
      placeArtifact: () => staged.place(sha256),
    });
  } finally {
    await staged.discard();
  }
}

/** Writes the chunks to `file`, counting and hashing them; stops at the first bad chunk. */
async function receive(
  file: string,
  header: UploadHeader,
  chunks: AsyncIterator<Uint8Array>,
  signal: AbortSignal,
): Promise<{ received: bigint; sha256: string }> {
  const hash = createHash('sha256');
  const out = await open(file, 'wx');
  let received = 0n;
  try {
    for (let index = 0; ; index++) {
      const { done, value: chunk } = await nextOrAbort(chunks, signal);
      if (done) break;
      if (chunk.length === 0) throw RpcError.invalidArgument('chunk', `chunk ${index} is empty`);
      if (chunk.length > MAX_CHUNK_BYTES)
        throw RpcError.invalidArgument(
          'chunk',
          `chunk ${index} has ${chunk.length} bytes, more than the ${MAX_CHUNK_BYTES} allowed`,
        );
      received += BigInt(chunk.length);
      if (received > header.sizeBytes) {
        throw RpcError.invalidArgument(
          'chunk',
          `the upload has more bytes than the ${header.sizeBytes} declared in header.size_bytes; nothing was registered`,
        );
      }
      hash.update(chunk);
      await out.write(chunk);
    }
  } finally {
    await out.close();
  }
  return { received, sha256: hash.digest('hex') };
}

async function checkOnnx(file: string, header: UploadHeader, loadCheck: boolean): Promise<void> {
  const bytes = await readFile(file);
  let locations: string[];
  try {
    locations = externalDataLocations(bytes);
  } catch (error) {
    throw RpcError.invalidArgument(
      'chunk',
      `the artifact is not an ONNX model: ${(error as Error).message}`,
    );
  }
  for (const location of locations) {
    const why = locationEscape(location);
    if (why !== undefined) {
      throw RpcError.invalidArgument(
        'chunk',
        `the ONNX model refers to external data at ${JSON.stringify(location)}, which ${why}; external data must stay inside the model's own folder`,
      );
    }
  }
  if (!loadCheck) return;
  // onnxruntime is loaded on the first upload, not at start.
  const { loadOnnxModel } = await import('@scoregate/inference');
  let model;
  try {
    // Loaded from the private staging folder, so in-folder external data resolves to nothing else.
    model = await loadOnnxModel(file);
  } catch (error) {
    throw RpcError.invalidArgument(
      'chunk',
      `the artifact does not load in onnxruntime: ${(error as Error).message.split('\n')[0]}`,
    );
  }
  try {
    const problems = signatureMismatches(header.spec!, model);
    if (problems.length > 0) {
      throw RpcError.invalidArgument(
        'header.spec',
        `the ONNX model does not match the declared signature: ${problems.join('; ')}`,
      );
    }
  } finally {
    await model.release();
  }
}

function cancelled(): RpcError {
  return new RpcError(
    Code.CANCELLED,
    'the upload was cancelled by the client; nothing was registered',
  );
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw cancelled();
}

/** The iterator's next value, or CANCELLED as soon as the call is cancelled (a stream may then never end). */
async function nextOrAbort<T>(
  iterator: AsyncIterator<T>,
  signal: AbortSignal,
): Promise<IteratorResult<T>> {
  throwIfAborted(signal);
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(cancelled());
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([iterator.next(), aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort!);
  }
}

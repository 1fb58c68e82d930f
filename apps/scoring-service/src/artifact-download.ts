import type { RegistryService } from '@scoregate/contracts';
import type { RpcClient } from '@scoregate/rpc';
import { sha256Hex } from './artifact-cache.js';
import { LoadError } from './load-error.js';
import type { KnownVersion } from './registry-state.js';

export interface ArtifactDownloadOptions {
  /** Largest artifact accepted. */
  readonly maxArtifactBytes: number;
  /** Time allowed for one download. */
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
}

/**
 * Downloads a version's artifact from registry-service and checks it against what the watch
 * declared: the metadata first, no more and no fewer bytes than its size, and its sha256. A
 * mismatch is a LoadError of stage `verify`; a failed transfer is thrown as it came.
 */
export async function downloadArtifact(
  client: RpcClient<typeof RegistryService>,
  v: KnownVersion,
  options: ArtifactDownloadOptions,
): Promise<Uint8Array> {
  if (v.sizeBytes > BigInt(options.maxArtifactBytes)) {
    throw new LoadError(
      'verify',
      `artifact of ${v.sizeBytes} bytes exceeds the limit of ${options.maxArtifactBytes}`,
    );
  }
  const size = Number(v.sizeBytes);
  const bytes = new Uint8Array(size);
  let received = 0;
  let header = false;
  for await (const message of client.downloadModelVersion(
    { model: v.model, selector: { case: 'version', value: v.version } },
    { timeoutMs: options.timeoutMs, signal: options.signal },
  )) {
    if (message.content.case === 'version') {
      checkHeader(v, message.content.value);
      header = true;
    } else if (message.content.case === 'chunk') {
      if (!header) throw new LoadError('verify', 'the download sent bytes before its metadata');
      const chunk = message.content.value;
      if (received + chunk.length > size) {
        throw new LoadError('verify', `the download sent more than the declared ${size} bytes`);
      }
      bytes.set(chunk, received);
      received += chunk.length;
    }
  }
  if (received !== size)
    throw new LoadError('verify', `the download ended after ${received} of ${size} bytes`);
  const digest = sha256Hex(bytes);
  if (digest !== v.sha256) {
    throw new LoadError(
      'verify',
      `the downloaded bytes have sha256 ${digest}, the registry declares ${v.sha256}`,
    );
  }
  return bytes;
}

function checkHeader(v: KnownVersion, meta: { sha256: string; sizeBytes: bigint }): void {
  if (meta.sha256 !== v.sha256 || meta.sizeBytes !== v.sizeBytes) {
    throw new LoadError(
      'verify',
      `the download describes sha256 ${meta.sha256} (${meta.sizeBytes} bytes), the registry's watch said ${v.sha256} (${v.sizeBytes} bytes)`,
    );
  }
}

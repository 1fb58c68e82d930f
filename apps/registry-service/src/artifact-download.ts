import { createHash } from 'node:crypto';
import type { DownloadModelVersionRequest } from '@scoregate/contracts';
import { Code, RpcError, type CallContext } from '@scoregate/rpc';
import type { ArtifactStore } from './artifact-store.js';
import type { RegistryStore } from './store/registry-store.js';
import { resolveVersion } from './version-selector.js';

/** Largest artifact chunk sent by DownloadModelVersion (the proto's limit). */
export const DOWNLOAD_CHUNK_BYTES = 1024 * 1024;

/**
 * DownloadModelVersion: the version, then its artifact in chunks. The bytes are counted and
 * hashed again, so a file changed on disk since it was registered is reported (DATA_LOSS)
 * instead of silently sent.
 */
export async function* downloadModelVersion(
  store: RegistryStore,
  artifacts: ArtifactStore,
  request: DownloadModelVersionRequest,
  context: CallContext,
) {
  const version = await resolveVersion(store, request.model, request.selector);
  yield { content: { case: 'version', value: version } } as const;
  const hash = createHash('sha256');
  let received = 0n;
  for await (const chunk of artifacts.read(version.sha256, DOWNLOAD_CHUNK_BYTES)) {
    if (context.signal.aborted) return;
    received += BigInt(chunk.length);
    hash.update(chunk);
    yield { content: { case: 'chunk', value: chunk } } as const;
  }
  const sha256 = hash.digest('hex');
  if (received !== version.sizeBytes || sha256 !== version.sha256) {
    throw new RpcError(
      Code.DATA_LOSS,
      `the artifact of ${version.model} version ${version.version} changed since it was registered: ` +
        `read ${received} bytes with sha256 ${sha256}, expected ${version.sizeBytes} bytes with sha256 ${version.sha256}`,
    );
  }
}

import { readFileSync } from 'node:fs';
import { credentials, ServerCredentials, type ChannelCredentials } from '@grpc/grpc-js';

/** PEM files for TLS. With `ca` on a server, clients must present a certificate (mTLS). */
export interface TlsOptions {
  readonly certFile?: string;
  readonly keyFile?: string;
  readonly caFile?: string;
}

const read = (file: string | undefined) => (file ? readFileSync(file) : null);

export function serverCredentials(tls: TlsOptions): ServerCredentials {
  const cert = read(tls.certFile);
  const key = read(tls.keyFile);
  if (!cert || !key) throw new Error('TLS on a server needs both certFile and keyFile');
  const ca = read(tls.caFile);
  return ServerCredentials.createSsl(ca, [{ cert_chain: cert, private_key: key }], ca !== null);
}

export function channelCredentials(tls: TlsOptions | undefined): ChannelCredentials {
  if (!tls) return credentials.createInsecure();
  if (Boolean(tls.certFile) !== Boolean(tls.keyFile))
    throw new Error('a TLS client certificate needs both certFile and keyFile');
  return credentials.createSsl(read(tls.caFile), read(tls.keyFile), read(tls.certFile));
}

import { loadPackageDefinition, type ServiceError, type ClientReadableStream } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { channelCredentials, type TlsOptions } from './credentials.js';

export type HealthStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

interface HealthStub {
  check(
    request: { service: string },
    options: { deadline: Date },
    callback: (error: ServiceError | null, reply: { status: HealthStatus }) => void,
  ): void;
  watch(request: { service: string }): ClientReadableStream<{ status: HealthStatus }>;
  close(): void;
}

function healthStub(address: string, tls: TlsOptions | undefined): HealthStub {
  const definition = loadPackageDefinition(loadSync(healthProtoPath, { enums: String }));
  const grpc = definition['grpc'] as unknown as Record<
    string,
    Record<string, Record<string, new (a: string, c: unknown) => HealthStub>>
  >;
  const Health = grpc['health']?.['v1']?.['Health'];
  if (!Health) throw new Error('grpc.health.v1.Health is missing from the health proto');
  return new Health(address, channelCredentials(tls));
}

/**
 * Asks a server's grpc.health.v1 service for its status ('' = the whole server). Rejects when the
 * server cannot be reached within `timeoutMs`. Plaintext unless `tls` is given.
 */
export function checkHealth(
  address: string,
  service = '',
  timeoutMs = 1000,
  tls?: TlsOptions,
): Promise<HealthStatus> {
  const stub = healthStub(address, tls);
  return new Promise<HealthStatus>((resolve, reject) =>
    stub.check({ service }, { deadline: new Date(Date.now() + timeoutMs) }, (error, reply) => {
      stub.close();
      if (error) reject(error);
      else resolve(reply.status);
    }),
  );
}

/** Follows a server's health status; `stop()` ends the watch. Plaintext unless `tls` is given. */
export function watchHealth(
  address: string,
  onStatus: (status: HealthStatus) => void,
  service = '',
  tls?: TlsOptions,
): { stop(): void } {
  const stub = healthStub(address, tls);
  const call = stub.watch({ service });
  call.on('data', (reply: { status: HealthStatus }) => onStatus(reply.status));
  call.on('error', () => {});
  return {
    stop() {
      call.cancel();
      stub.close();
    },
  };
}

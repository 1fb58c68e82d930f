import {
  credentials,
  loadPackageDefinition,
  type ServiceError,
  type ClientReadableStream,
  type ClientDuplexStream,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { createRequire } from 'node:module';

/**
 * Independent grpc.health.v1 and reflection clients (built from the services' published .proto
 * files, not from this library), used by specs to check what a server exposes.
 */
type Callback<T> = (error: ServiceError | null, value: T) => void;
interface HealthStub {
  check(request: { service: string }, callback: Callback<{ status: string }>): void;
  watch(request: { service: string }): ClientReadableStream<{ status: string }>;
  close(): void;
}
interface ReflectionStub {
  serverReflectionInfo(): ClientDuplexStream<object, ReflectionReply>;
  close(): void;
}
interface ReflectionReply {
  listServicesResponse?: { service: { name: string }[] };
  fileDescriptorResponse?: { fileDescriptorProto: Buffer[] };
  errorResponse?: { errorCode: number; errorMessage: string };
}

type Constructor<T> = new (
  address: string,
  creds: ReturnType<typeof credentials.createInsecure>,
) => T;

function stub<T>(protoFile: string, path: string[], address: string): T {
  const definition = loadPackageDefinition(loadSync(protoFile, { keepCase: false, enums: String }));
  let node: unknown = definition;
  for (const part of path) node = (node as Record<string, unknown>)[part];
  return new (node as Constructor<T>)(address, credentials.createInsecure());
}

export function healthProbe(address: string) {
  const client = stub<HealthStub>(healthProtoPath, ['grpc', 'health', 'v1', 'Health'], address);
  return {
    check: (service = '') =>
      new Promise<string>((resolve, reject) =>
        client.check({ service }, (error, reply) =>
          error ? reject(error) : resolve(reply.status),
        ),
      ),
    watch: (service = '') => client.watch({ service }),
    close: () => client.close(),
  };
}

export function reflectionProbe(address: string) {
  const require = createRequire(import.meta.url);
  const protoFile =
    require.resolve('@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto');
  const client = stub<ReflectionStub>(
    protoFile,
    ['grpc', 'reflection', 'v1', 'ServerReflection'],
    address,
  );
  const ask = (request: object) =>
    new Promise<ReflectionReply>((resolve, reject) => {
      const call = client.serverReflectionInfo();
      call.on('data', (reply: ReflectionReply) => {
        resolve(reply);
        call.end();
      });
      call.on('error', reject);
      call.write(request);
    });
  return {
    listServices: async () =>
      (await ask({ listServices: '' })).listServicesResponse?.service.map((s) => s.name) ?? [],
    fileContainingSymbol: async (symbol: string) => ask({ fileContainingSymbol: symbol }),
    close: () => client.close(),
  };
}

import { toBinary, type DescFile, type DescService } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { withProtocMapEntryNames } from './map-entry-names.js';

function collectFiles(file: DescFile, into: Map<string, DescFile>): void {
  if (into.has(file.name)) return;
  into.set(file.name, file);
  for (const dependency of file.dependencies) collectFiles(dependency, into);
}

/**
 * A package definition for @grpc/reflection built from protobuf-es descriptors (the files of the
 * registered services and everything they import), plus the health service's own file, so that
 * `grpcurl list` and `grpcurl describe` see exactly what the server serves.
 */
export function reflectionPackageDefinition(services: readonly DescService[]): PackageDefinition {
  const files = new Map<string, DescFile>();
  for (const service of services) collectFiles(service.file, files);
  const fileDescriptorProtos = [...files.values()].map((file) =>
    Buffer.from(toBinary(FileDescriptorProtoSchema, file.proto)),
  );
  const definition: Record<string, unknown> = {};
  for (const service of services) {
    definition[service.typeName] = {
      format: 'Protocol Buffer 3 FileDescriptorProto',
      fileDescriptorProtos,
    };
  }
  const health = withProtocMapEntryNames(loadSync(healthProtoPath));
  return { ...health, ...definition } as PackageDefinition;
}

import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, type DescriptorProto } from '@bufbuild/protobuf/wkt';
import type { PackageDefinition } from '@grpc/proto-loader';

/**
 * protoc's name for the entry type of a map field: the field's name without underscores, its
 * first character and each one after an underscore upper-cased, then `Entry`.
 */
export function mapEntryName(fieldName: string): string {
  const parts = fieldName.split('_').map((part) => part.charAt(0).toUpperCase() + part.slice(1));
  return `${parts.join('')}Entry`;
}

function renameMapEntries(message: DescriptorProto): void {
  for (const field of message.field) {
    const scope = field.typeName.slice(0, field.typeName.lastIndexOf('.') + 1);
    const entry = message.nestedType.find(
      (nested) => nested.options?.mapEntry && `${scope}${nested.name}` === field.typeName,
    );
    if (!entry) continue;
    entry.name = mapEntryName(field.name);
    field.typeName = `${scope}${entry.name}`;
  }
  message.nestedType.forEach(renameMapEntries);
}

function withEntryNames(bytes: Buffer): Buffer {
  const file = fromBinary(FileDescriptorProtoSchema, bytes);
  file.messageType.forEach(renameMapEntries);
  return Buffer.from(toBinary(FileDescriptorProtoSchema, file));
}

/**
 * The package definition with its file descriptors' map entry types named as protoc names them.
 * @grpc/proto-loader (protobufjs) names the entry type of `map<…> statuses` `Statuses` instead
 * of `StatusesEntry`; clients that check descriptors served by reflection (grpcurl, protobuf-go)
 * then refuse the whole file ("incorrect implicit map entry name").
 */
export function withProtocMapEntryNames(definition: PackageDefinition): PackageDefinition {
  const renamed = new Map<Buffer, Buffer>();
  const rename = (bytes: Buffer) => {
    if (!renamed.has(bytes)) renamed.set(bytes, withEntryNames(bytes));
    return renamed.get(bytes)!;
  };
  // Messages and enums carry their file's descriptors; services do not.
  const filesOf = (entry: object) =>
    (entry as { fileDescriptorProtos?: unknown }).fileDescriptorProtos;
  return Object.fromEntries(
    Object.entries(definition).map(([name, entry]) => {
      const files = filesOf(entry);
      return [
        name,
        Array.isArray(files) ? { ...entry, fileDescriptorProtos: files.map(rename) } : entry,
      ];
    }),
  ) as PackageDefinition;
}

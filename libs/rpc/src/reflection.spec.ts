import { afterEach, describe, expect, it } from 'vitest';
import { fromBinary } from '@bufbuild/protobuf';
import {
  FileDescriptorProtoSchema,
  type DescriptorProto,
  type FileDescriptorProto,
} from '@bufbuild/protobuf/wkt';
import { createRpcServer } from './index.js';
import { mapEntryName } from './map-entry-names.js';
import { reflectionProbe } from './testing/grpc-probes.js';

const silent = { info() {}, warn() {}, error() {} };
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

/** Each map field of the message (and its nested messages): `Message.field → entry type`. */
function mapEntries(message: DescriptorProto, scope: string): Record<string, string> {
  const entries: Record<string, string> = {};
  const nested = new Map(message.nestedType.map((n) => [n.name, n]));
  for (const field of message.field) {
    const entry = nested.get(field.typeName.split('.').at(-1) ?? '');
    if (entry?.options?.mapEntry) entries[`${scope}.${field.name}`] = entry.name;
  }
  for (const inner of message.nestedType)
    Object.assign(entries, mapEntries(inner, `${scope}.${inner.name}`));
  return entries;
}

async function servedFiles(symbol: string): Promise<FileDescriptorProto[]> {
  const server = createRpcServer({ name: 'test', logger: silent });
  const port = await server.listen('127.0.0.1:0');
  cleanups.push(() => server.shutdown({ drainDelayMs: 0, graceMs: 1000 }));
  const reflection = reflectionProbe(`127.0.0.1:${port}`);
  cleanups.push(() => reflection.close());
  const reply = await reflection.fileContainingSymbol(symbol);
  return (reply.fileDescriptorResponse?.fileDescriptorProto ?? []).map((bytes) =>
    fromBinary(FileDescriptorProtoSchema, bytes),
  );
}

describe('the grpc.health.v1 descriptor served by reflection', () => {
  it("names each map field's entry type as protoc does (<Field>Entry), so grpcurl accepts it", async () => {
    const [file] = await servedFiles('grpc.health.v1.Health');
    expect(file?.package).toBe('grpc.health.v1');
    const entries = Object.assign(
      {},
      ...file!.messageType.map((message) => mapEntries(message, message.name)),
    ) as Record<string, string>;
    expect(entries).toEqual({ 'HealthListResponse.statuses': 'StatusesEntry' });
  });

  it('names entries as protoc does for snake_case fields too', () => {
    expect(mapEntryName('request_features')).toBe('RequestFeaturesEntry');
    expect(mapEntryName('statuses')).toBe('StatusesEntry');
  });
});

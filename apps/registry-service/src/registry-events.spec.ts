import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBinary } from '@bufbuild/protobuf';
import { AliasMovedEventSchema, ModelVersionRegisteredSchema } from '@scoregate/contracts';
import {
  createKafkaConsumer,
  createTopics,
  parseBrokers,
  type MessageConsumer,
} from '@scoregate/messaging';
import { createLogger } from '@scoregate/telemetry';
import { DEFAULT_MANIFEST_FILE, loadCatalogue } from './catalogue.js';
import { startEventRelay } from './event-relay.js';
import { createRegistryEventsFromConfig } from './registry-events-kafka.js';
import type { RegistryEvents } from './registry-events.js';
import {
  removeDir,
  sha256Of,
  sqliteTestDatabase,
  startRegistry,
  uploadMessages,
  withMetadata,
  type RegistryUnderTest,
} from './testing/registry-harness.js';

const brokers = process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092';
const run = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
const topic = `scoregate.registry.events.v1.test-${run}`;
const logger = createLogger({ service: 'registry-events-test', level: 'error' });

interface Received {
  key: string;
  type: string;
  revision: string;
  value: Uint8Array;
}

let registry: RegistryUnderTest;
let events: RegistryEvents;
let consumer: MessageConsumer | undefined;
const received: Received[] = [];
let gbt: Uint8Array;

async function until(count: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (received.length < count && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 100));
}

beforeAll(async () => {
  gbt = new Uint8Array(
    await readFile(path.join(path.dirname(DEFAULT_MANIFEST_FILE), 'truck-roll-gbt/1/model.onnx')),
  );
  events = createRegistryEventsFromConfig({ brokers, logger, topic })!;
  registry = await startRegistry({ db: sqliteTestDatabase(), seed: false, events });
  await createTopics(parseBrokers(brokers), [{ name: topic, partitions: 3 }]);
  consumer = await createKafkaConsumer({
    brokers: parseBrokers(brokers),
    groupId: `registry-events-test-${run}`,
    topics: [topic],
    fromBeginning: true,
    handleMessage: async (message) => {
      received.push({
        key: new TextDecoder().decode(message.key),
        type: message.headers['scoregate-event-type'] ?? '',
        revision: message.headers['scoregate-registry-revision'] ?? '',
        value: message.value,
      });
    },
  });
});

afterAll(async () => {
  await consumer?.stop();
  await registry?.stop();
  await events?.close();
  if (registry) await removeDir(registry.dataDir);
});

describe('registry events on Kafka', () => {
  it('publishes ModelVersionRegistered and AliasMoved (protobuf, keyed by model) after each commit, in order', async () => {
    const spec = (await (await loadCatalogue()).getVersion('truck-roll-gbt', '1'))!.spec!;
    const uploaded = await registry.client.uploadModelVersion(
      uploadMessages('evt-model', spec, gbt),
    );
    const moved = await registry.client.setAlias({
      model: 'evt-model',
      alias: 'champion',
      version: '1',
      reason: 'first',
      movedBy: 'events-test',
    });
    const deleted = await registry.client.deleteAlias({
      model: 'evt-model',
      alias: 'champion',
      reason: 'retired',
      deletedBy: 'events-test',
    });
    await until(3);

    expect(received.map((r) => [r.key, r.type, r.revision])).toEqual([
      ['evt-model', 'scoregate.events.v1.ModelVersionRegistered', String(uploaded.revision)],
      ['evt-model', 'scoregate.events.v1.AliasMoved', String(moved.revision)],
      ['evt-model', 'scoregate.events.v1.AliasMoved', String(deleted.revision)],
    ]);
    expect(fromBinary(ModelVersionRegisteredSchema, received[0]!.value)).toMatchObject({
      model: 'evt-model',
      version: '1',
      sha256: sha256Of(gbt),
      registeredBy: 'test@registry',
    });
    const alias = fromBinary(AliasMovedEventSchema, received[1]!.value);
    expect(alias).toMatchObject({
      model: 'evt-model',
      alias: 'champion',
      fromVersion: '',
      toVersion: '1',
      reason: 'first',
      movedBy: 'events-test',
    });
    expect(alias.movedAt).toEqual(moved.moved?.movedAt);
    expect(fromBinary(AliasMovedEventSchema, received[2]!.value)).toMatchObject({
      fromVersion: '1',
      toVersion: '',
      reason: 'retired',
    });
  });

  it('publishes, once the relay runs again, the changes committed while it was stopped', async () => {
    const start = received.length;
    const spec = (await (await loadCatalogue()).getVersion('truck-roll-gbt', '1'))!.spec!;
    // The registry again on the same data, without a relay: Kafka "down" for the registry.
    await registry.stop();
    const offline = await startRegistry({
      db: sqliteTestDatabase(),
      dataDir: registry.dataDir,
      seed: false,
    });
    const second = await offline.client.uploadModelVersion(
      uploadMessages('evt-model', spec, withMetadata(gbt, 'n', '2')),
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(received).toHaveLength(start);

    const relay = startEventRelay({
      store: offline.store,
      events,
      name: 'test-relay',
      logger: { warn() {}, info() {} },
      pollMs: 100,
    });
    try {
      await until(start + 1);
      await new Promise((r) => setTimeout(r, 300)); // and nothing twice
      expect(received.slice(start).map((r) => [r.type, r.revision])).toEqual([
        ['scoregate.events.v1.ModelVersionRegistered', String(second.revision)],
      ]);
    } finally {
      await relay.stop();
      registry = offline;
    }
  });
});

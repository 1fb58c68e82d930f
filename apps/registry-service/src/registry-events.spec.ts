import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBinary } from '@bufbuild/protobuf';
import { AliasMovedEventSchema, ModelVersionRegisteredSchema } from '@scoregate/contracts';
import { createKafkaConsumer, parseBrokers, type MessageConsumer } from '@scoregate/messaging';
import { createLogger } from '@scoregate/telemetry';
import { DEFAULT_MANIFEST_FILE, loadCatalogue } from './catalogue.js';
import { createRegistryEventsFromConfig } from './registry-events-kafka.js';
import type { RegistryEvents } from './registry-events.js';
import {
  removeDir,
  sha256Of,
  sqliteTestDatabase,
  startRegistry,
  uploadMessages,
  type RegistryUnderTest,
} from './testing/registry-harness.js';

const brokers = process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092';
const run = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
const topic = `scoregate.registry.events.v1.test-${run}`;
const logger = createLogger({ service: 'registry-events-test', level: 'error' });

interface Received {
  key: string;
  type: string;
  value: Uint8Array;
}

let registry: RegistryUnderTest;
let events: RegistryEvents;
let consumer: MessageConsumer | undefined;
const received: Received[] = [];

beforeAll(async () => {
  events = createRegistryEventsFromConfig({ brokers, logger, topic })!;
  registry = await startRegistry({ db: sqliteTestDatabase(), seed: false, events });
});

afterAll(async () => {
  await consumer?.stop();
  await registry?.stop();
  await events?.close();
  if (registry) await removeDir(registry.dataDir);
});

describe('registry events on Kafka', () => {
  it('publishes ModelVersionRegistered and AliasMoved (protobuf, keyed by model) after each commit', async () => {
    const gbt = new Uint8Array(
      await readFile(path.join(path.dirname(DEFAULT_MANIFEST_FILE), 'truck-roll-gbt/1/model.onnx')),
    );
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

    consumer = await createKafkaConsumer({
      brokers: parseBrokers(brokers),
      groupId: `registry-events-test-${run}`,
      topics: [topic],
      fromBeginning: true,
      handleMessage: async (message) => {
        received.push({
          key: new TextDecoder().decode(message.key),
          type: message.headers['scoregate-event-type'] ?? '',
          value: message.value,
        });
      },
    });
    const deadline = Date.now() + 30_000;
    while (received.length < 2 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));

    expect(received.map((r) => [r.key, r.type])).toEqual([
      ['evt-model', 'scoregate.events.v1.ModelVersionRegistered'],
      ['evt-model', 'scoregate.events.v1.AliasMoved'],
    ]);
    const registered = fromBinary(ModelVersionRegisteredSchema, received[0]!.value);
    expect(registered).toMatchObject({
      model: 'evt-model',
      version: uploaded.version?.version,
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
  });
});

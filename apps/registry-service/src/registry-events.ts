import { create, toBinary } from '@bufbuild/protobuf';
import {
  AliasMovedEventSchema,
  ModelVersionRegisteredSchema,
  type WatchResponse,
} from '@scoregate/contracts';
import type { MessageProducer } from '@scoregate/messaging';

/** The Kafka topic of registry events (scoregate.events.v1 messages, protobuf). */
export const REGISTRY_EVENTS_TOPIC = 'scoregate.registry.events.v1';

/** One record of the events topic. */
export interface RegistryEventRecord {
  /** The model's name: a model's events stay in order on one partition. */
  readonly key: string;
  /** The event's full protobuf type name, also sent in the `scoregate-event-type` header. */
  readonly type: string;
  readonly value: Uint8Array;
}

/**
 * Where the registry announces committed changes. The event relay calls it for each change of
 * the change log, in revision order, after the commit.
 */
export interface RegistryEvents {
  /** Resolves once the broker acknowledged the change's event (or at once if it has none). */
  publish(change: WatchResponse): Promise<void>;
  close(): Promise<void>;
}

/**
 * The scoregate.events.v1 record of a change: ModelVersionRegistered for a new version,
 * AliasMoved for an alias moved or deleted (empty to_version); undefined for other changes.
 */
export function eventOf(change: WatchResponse): RegistryEventRecord | undefined {
  const c = change.change;
  switch (c.case) {
    case 'versionRegistered':
      return {
        key: c.value.model,
        type: 'scoregate.events.v1.ModelVersionRegistered',
        value: toBinary(
          ModelVersionRegisteredSchema,
          create(ModelVersionRegisteredSchema, {
            model: c.value.model,
            version: c.value.version,
            sha256: c.value.sha256,
            registeredBy: c.value.registeredBy,
            ...(c.value.registeredAt ? { registeredAt: c.value.registeredAt } : {}),
          }),
        ),
      };
    case 'aliasMoved': {
      const { $typeName: _, ...move } = c.value;
      return {
        key: move.model,
        type: 'scoregate.events.v1.AliasMoved',
        value: toBinary(AliasMovedEventSchema, create(AliasMovedEventSchema, move)),
      };
    }
    case 'aliasDeleted':
      return {
        key: c.value.model,
        type: 'scoregate.events.v1.AliasMoved',
        value: toBinary(
          AliasMovedEventSchema,
          create(AliasMovedEventSchema, {
            model: c.value.model,
            alias: c.value.alias,
            fromVersion: c.value.version,
            toVersion: '',
            reason: c.value.reason,
            movedBy: c.value.deletedBy,
            ...(c.value.deletedAt ? { movedAt: c.value.deletedAt } : {}),
          }),
        ),
      };
    default:
      return undefined;
  }
}

export interface KafkaRegistryEventsOptions {
  /** The connected producer (connecting on first use; rejected while the broker is unreachable). */
  readonly producer: () => Promise<MessageProducer>;
  readonly topic?: string;
}

/** Registry events as protobuf records on Kafka, keyed by model name, with their type in a header. */
export function createKafkaRegistryEvents(options: KafkaRegistryEventsOptions): RegistryEvents {
  const topic = options.topic ?? REGISTRY_EVENTS_TOPIC;
  return {
    async publish(change) {
      const event = eventOf(change);
      if (event === undefined) return;
      const producer = await options.producer();
      await producer.send(topic, [
        {
          key: event.key,
          value: event.value,
          headers: {
            'scoregate-event-type': event.type,
            'scoregate-registry-revision': String(change.revision),
          },
        },
      ]);
    },
    async close() {
      await options.producer().then(
        (producer) => producer.close(),
        () => undefined,
      );
    },
  };
}

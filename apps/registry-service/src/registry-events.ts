import { create, toBinary } from '@bufbuild/protobuf';
import {
  AliasMovedEventSchema,
  ModelVersionRegisteredSchema,
  type AliasDeleted,
  type AliasMoved,
  type ModelVersion,
} from '@scoregate/contracts';
import type { MessageProducer } from '@scoregate/messaging';

/** The Kafka topic of registry events (scoregate.events.v1 messages, protobuf). */
export const REGISTRY_EVENTS_TOPIC = 'scoregate.registry.events.v1';

/**
 * Where the registry announces committed changes. Called after the commit, never inside the
 * transaction; a failed publication is logged and does not undo the change.
 */
export interface RegistryEvents {
  versionRegistered(version: ModelVersion): void;
  aliasMoved(move: AliasMoved): void;
  /** Published as an AliasMoved event with an empty to_version. */
  aliasDeleted(deletion: AliasDeleted): void;
  /** Waits for publications in flight, then releases the connection. */
  close(): Promise<void>;
}

export interface KafkaRegistryEventsOptions {
  /** Resolves to the connected producer; records wait for it (a broker down at start delays them). */
  readonly producer: Promise<MessageProducer>;
  readonly topic?: string;
  readonly logger: { warn(object: object, message: string): void };
}

/** Registry events as protobuf records keyed by model name, with their type in a header. */
export function createKafkaRegistryEvents(options: KafkaRegistryEventsOptions): RegistryEvents {
  const topic = options.topic ?? REGISTRY_EVENTS_TOPIC;
  // One publication at a time, in commit order: concurrent sends could overtake each other.
  let tail: Promise<unknown> = options.producer.catch(() => undefined);
  const publish = (model: string, type: string, value: Uint8Array) => {
    tail = tail
      .then(() => options.producer)
      .then((producer) =>
        producer.send(topic, [{ key: model, value, headers: { 'scoregate-event-type': type } }]),
      )
      .catch((error: unknown) =>
        options.logger.warn(
          { err: error, topic, type, model },
          `could not publish ${type} to ${topic}`,
        ),
      );
  };
  const aliasMoved = (move: Omit<AliasMoved, '$typeName'>) =>
    publish(
      move.model,
      'scoregate.events.v1.AliasMoved',
      toBinary(AliasMovedEventSchema, create(AliasMovedEventSchema, { ...move })),
    );
  return {
    versionRegistered: (version) =>
      publish(
        version.model,
        'scoregate.events.v1.ModelVersionRegistered',
        toBinary(
          ModelVersionRegisteredSchema,
          create(ModelVersionRegisteredSchema, {
            model: version.model,
            version: version.version,
            sha256: version.sha256,
            registeredBy: version.registeredBy,
            ...(version.registeredAt ? { registeredAt: version.registeredAt } : {}),
          }),
        ),
      ),
    aliasMoved,
    aliasDeleted: (deletion) =>
      aliasMoved({
        model: deletion.model,
        alias: deletion.alias,
        fromVersion: deletion.version,
        toVersion: '',
        reason: deletion.reason,
        movedBy: deletion.deletedBy,
        ...(deletion.deletedAt ? { movedAt: deletion.deletedAt } : {}),
      }),
    async close() {
      await tail;
      await options.producer.then(
        (producer) => producer.close(),
        () => undefined,
      );
    },
  };
}

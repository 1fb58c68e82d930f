import { fromBinary } from '@bufbuild/protobuf';
import {
  OutcomeObservedSchema,
  PredictionLoggedSchema,
  type OutcomeObserved,
  type PredictionLogged,
} from '@scoregate/contracts';
import {
  deadLetterOf,
  deadLetterTopicOf,
  type BatchHandler,
  type MessageProducer,
} from '@scoregate/messaging';
import type { Logger } from '@scoregate/telemetry';
import type { OutcomeClockCheck } from './join-handlers.js';
import { predictionInput, type OutcomeInput, type PredictionInput } from './join-inputs.js';
import type { LabeledExampleStore } from './labeled-example-store.js';
import { checkOutcome, isProblem } from './outcome-validation.js';

export interface JoinIngestorOptions {
  readonly store: LabeledExampleStore;
  readonly predictionTopic: string;
  readonly outcomeTopic: string;
  /** Where undecodable or invalid events go (`<topic>.dlq`, reason in `dlq-reason`). */
  readonly deadLetters: MessageProducer;
  readonly checkOutcomeClock?: OutcomeClockCheck;
  readonly logger: Logger;
}

/** The store's name for a Kafka topic partition. */
export function kafkaStream(topic: string, partition: number): string {
  return `kafka:${topic}/${partition}`;
}

/**
 * The batch handler that feeds the join from Kafka (PredictionLogged from the gateway,
 * OutcomeObserved from the business systems). A batch is applied in one transaction together
 * with its partition's next offset, and messages below the offset the store already holds are
 * skipped: a batch delivered again after a crash (its Kafka commit lost) changes nothing, so the
 * counts stay exact. Refused events go to the dead-letter topic first; a failing send throws and
 * the batch is retried, nothing applied.
 */
export function createJoinIngestor(options: JoinIngestorOptions): BatchHandler {
  const { store, predictionTopic, outcomeTopic, deadLetters, logger } = options;
  const checkClock = options.checkOutcomeClock ?? (() => undefined);
  return async ({ topic, partition, messages }) => {
    if (topic !== predictionTopic && topic !== outcomeTopic)
      throw new Error(`the join does not consume topic ${topic}`);
    const stream = kafkaStream(topic, partition);
    const from = store.position(stream) ?? 0n;
    const fresh = messages.filter((m) => BigInt(m.offset) >= from);
    if (fresh.length === 0) return;
    const refused: { index: number; reason: string }[] = [];
    const predictions: PredictionInput[] = [];
    const outcomes: { input: OutcomeInput; index: number }[] = [];
    fresh.forEach((message, index) => {
      if (topic === predictionTopic) {
        const event = decode<PredictionLogged>(() =>
          fromBinary(PredictionLoggedSchema, message.value),
        );
        if (typeof event === 'string') refused.push({ index, reason: event });
        else if (event.requestId === '')
          refused.push({ index, reason: 'request_id: is empty (cannot be joined)' });
        else predictions.push(predictionInput(event));
        return;
      }
      const event = decode<OutcomeObserved>(() => fromBinary(OutcomeObservedSchema, message.value));
      const checked = typeof event === 'string' ? undefined : checkOutcome(event);
      if (checked === undefined) refused.push({ index, reason: event as string });
      else if (isProblem(checked))
        refused.push({ index, reason: `${checked.field}: ${checked.description}` });
      else outcomes.push({ input: checked, index });
    });
    const ahead = outcomes.length > 0 ? checkAll(outcomes, checkClock) : [];
    refused.push(...ahead);
    const aheadIndexes = new Set(ahead.map((r) => r.index));
    if (refused.length > 0) {
      await deadLetters.send(
        deadLetterTopicOf(topic),
        refused.map(({ index, reason }) => deadLetterOf(fresh[index]!, reason)),
      );
      logger.warn(
        { topic, partition, refused: refused.length, first: refused[0]!.reason },
        `${refused.length} event(s) of ${topic} refused, sent to ${deadLetterTopicOf(topic)}: ${refused[0]!.reason}`,
      );
    }
    store.apply(
      {
        predictions,
        outcomes: outcomes.filter((o) => !aheadIndexes.has(o.index)).map((o) => o.input),
      },
      [{ stream, next: BigInt(fresh.at(-1)!.offset) + 1n }],
    );
  };
}

function decode<T>(read: () => T): T | string {
  try {
    return read();
  } catch (error) {
    return `not a binary protobuf event: ${(error as Error).message}`;
  }
}

/** Every outcome stamped too far ahead of the clock (the check names the first of a list). */
function checkAll(
  outcomes: readonly { input: OutcomeInput; index: number }[],
  checkClock: OutcomeClockCheck,
): { index: number; reason: string }[] {
  const refused: { index: number; reason: string }[] = [];
  for (const outcome of outcomes) {
    const ahead = checkClock([outcome.input]);
    if (ahead !== undefined)
      refused.push({ index: outcome.index, reason: `observed_at ${ahead.reason}` });
  }
  return refused;
}

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { predictionRow, type LabeledExampleRow } from './labeled-example.js';
import { LABELS_SCHEMA, prepareStatements } from './labeled-example-sql.js';
import type { OutcomeInput, PredictionInput } from './join-inputs.js';

/** Counts of the join, exact across restarts (kept in the same transactions as the rows). */
export interface JoinCounts {
  predictions: number;
  shadowPredictions: number;
  outcomes: number;
  labeledExamples: number;
  shadowLabeledExamples: number;
  pendingPredictions: number;
  pendingOutcomes: number;
  expiredPredictions: number;
  expiredOutcomes: number;
  duplicatePredictions: number;
  duplicateOutcomes: number;
  conflictingOutcomes: number;
}

/** What one batch did. */
export interface ApplyResult {
  recorded: number;
  duplicates: number;
  conflicts: number;
  joined: number;
}

/** Where a stream (a Kafka topic partition, or the prediction file) was read up to. */
export interface StreamPosition {
  /** e.g. `kafka:scoregate.predictions.v1/3` or `file:/path/predictions.jsonl`. */
  readonly stream: string;
  /** The next offset (or byte position) to read. */
  readonly next: bigint;
}

export interface LabeledExampleStoreOptions {
  /** The SQLite file (its folder is created). */
  readonly file: string;
  /** How long a prediction waits for its outcome, and an outcome for its prediction (ms). */
  readonly joinWindowMs: number;
  /** The clock (ms since the epoch); tests pass their own. */
  readonly now?: () => number;
}

type Counter =
  | 'predictions'
  | 'shadow_predictions'
  | 'outcomes'
  | 'labeled_examples'
  | 'shadow_labeled_examples'
  | 'expired_predictions'
  | 'expired_outcomes'
  | 'duplicate_predictions'
  | 'duplicate_outcomes'
  | 'conflicting_outcomes';

/**
 * The join of PredictionLogged with OutcomeObserved, and the labelled examples it produces, in
 * one SQLite file (node:sqlite, WAL). Either event may come first: the first one waits in a
 * pending table until its partner arrives or the join window passes (then it is counted as
 * expired, never dropped silently). Events are identified by (request_id, batch_index[, shadow])
 * so a second delivery changes nothing but a duplicate counter; a batch's rows, counters and
 * stream position are written in one transaction, so a killed process repeats nothing and loses
 * nothing.
 *
 * Synchronous on purpose: one process owns the file, a transaction of 1,000 events takes a few
 * milliseconds, and no other work interleaves with it.
 */
export class LabeledExampleStore {
  readonly file: string;
  readonly joinWindowMs: number;
  private readonly db: DatabaseSync;
  private readonly now: () => number;
  private readonly sql: ReturnType<typeof prepareStatements>;

  constructor(options: LabeledExampleStoreOptions) {
    if (!(options.joinWindowMs > 0)) throw new Error('the join window must be positive');
    mkdirSync(path.dirname(options.file), { recursive: true });
    this.file = options.file;
    this.joinWindowMs = options.joinWindowMs;
    this.now = options.now ?? Date.now;
    this.db = new DatabaseSync(options.file, { timeout: 10_000 });
    this.db.exec('PRAGMA journal_mode = WAL');
    // NORMAL in WAL mode: a committed transaction survives a killed process (only a power loss
    // can take the last ones back), at a fraction of FULL's fsyncs.
    this.db.exec('PRAGMA synchronous = NORMAL');
    // The join's lookups hit random pages of growing indexes: 64 MiB of page cache keeps them.
    this.db.exec('PRAGMA cache_size = -65536');
    this.db.exec(LABELS_SCHEMA);
    this.sql = prepareStatements(this.db);
  }

  /** Where `stream` was read up to, or undefined when it never was. */
  position(stream: string): bigint | undefined {
    const row = this.sql.getPosition.get(stream) as { next: string } | undefined;
    return row === undefined ? undefined : BigInt(row.next);
  }

  /**
   * Applies predictions and outcomes in order, in one transaction, together with the streams'
   * new positions (so a batch is applied exactly once however often it is delivered).
   */
  apply(
    events: {
      readonly predictions?: readonly PredictionInput[];
      readonly outcomes?: readonly OutcomeInput[];
    },
    positions: readonly StreamPosition[] = [],
  ): ApplyResult {
    const result: ApplyResult = { recorded: 0, duplicates: 0, conflicts: 0, joined: 0 };
    const counts = new Map<Counter, number>();
    const add = (name: Counter, n = 1) => counts.set(name, (counts.get(name) ?? 0) + n);
    const receivedAt = this.now();
    this.transaction(() => {
      for (const prediction of events.predictions ?? [])
        this.applyPrediction(prediction, receivedAt, result, add);
      for (const outcome of events.outcomes ?? [])
        this.applyOutcome(outcome, receivedAt, result, add);
      for (const [name, n] of counts) this.sql.addCounter.run(name, n);
      for (const position of positions)
        this.sql.setPosition.run(position.stream, position.next.toString());
    });
    return result;
  }

  /**
   * Ends the wait of every prediction and outcome received more than the join window ago,
   * counting them as expired.
   */
  expire(): { predictions: number; outcomes: number } {
    const before = this.now() - this.joinWindowMs;
    let predictions = 0;
    let outcomes = 0;
    this.transaction(() => {
      predictions = Number(this.sql.expirePredictions.run(before).changes);
      outcomes = Number(this.sql.expireOutcomes.run(before).changes);
      if (predictions > 0) this.sql.addCounter.run('expired_predictions', predictions);
      if (outcomes > 0) this.sql.addCounter.run('expired_outcomes', outcomes);
    });
    return { predictions, outcomes };
  }

  counts(): JoinCounts {
    const counter = new Map<string, number>();
    for (const row of this.sql.allCounters.all() as { name: string; value: number }[])
      counter.set(row.name, Number(row.value));
    const get = (name: Counter) => counter.get(name) ?? 0;
    const pending = (this.sql.countPendingPredictions.get() as { n: number }).n;
    const waiting = (this.sql.countPendingOutcomes.get() as { n: number }).n;
    return {
      predictions: get('predictions'),
      shadowPredictions: get('shadow_predictions'),
      outcomes: get('outcomes'),
      labeledExamples: get('labeled_examples'),
      shadowLabeledExamples: get('shadow_labeled_examples'),
      pendingPredictions: Number(pending),
      pendingOutcomes: Number(waiting),
      expiredPredictions: get('expired_predictions'),
      expiredOutcomes: get('expired_outcomes'),
      duplicatePredictions: get('duplicate_predictions'),
      duplicateOutcomes: get('duplicate_outcomes'),
      conflictingOutcomes: get('conflicting_outcomes'),
    };
  }

  /** Labelled examples of a model, oldest prediction first (for tests and small tools). */
  examples(filter: { model?: string; shadow?: boolean } = {}): LabeledExampleRow[] {
    const rows = this.sql.examples.all(
      filter.model ?? null,
      filter.shadow === undefined ? null : filter.shadow ? 1 : 0,
    ) as unknown as LabeledExampleRow[];
    return rows.map((row) => ({
      ...row,
      shadow: Number(row.shadow),
      degraded: Number(row.degraded),
    }));
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }

  private transaction(work: () => void): void {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      work();
      this.db.exec('COMMIT');
    } catch (error) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      throw error;
    }
  }

  private applyPrediction(
    prediction: PredictionInput,
    receivedAt: number,
    result: ApplyResult,
    add: (name: Counter, n?: number) => void,
  ): void {
    const { requestId, batchIndex } = prediction;
    const shadow = prediction.shadow ? 1 : 0;
    const state = this.sql.predictionState.get(
      requestId,
      batchIndex,
      shadow,
    ) as unknown as PredictionState;
    if (state.seen) {
      add('duplicate_predictions');
      result.duplicates++;
      return;
    }
    add(shadow ? 'shadow_predictions' : 'predictions');
    result.recorded++;
    const row = predictionColumns(prediction);
    if (state.label === null) {
      this.sql.insertPending.run(...row, receivedAt);
      return;
    }
    this.sql.insertExample.run(...row, state.label, state.observed_at_ms!, receivedAt);
    add(shadow ? 'shadow_labeled_examples' : 'labeled_examples');
    // Once joined, the outcome is found in labelled_examples (for a shadow prediction, a duplicate).
    if (state.waiting) this.sql.deleteOutcome.run(requestId, batchIndex);
    result.joined++;
  }

  private applyOutcome(
    outcome: OutcomeInput,
    receivedAt: number,
    result: ApplyResult,
    add: (name: Counter, n?: number) => void,
  ): void {
    const { requestId, batchIndex } = outcome;
    const known = this.sql.knownLabel.get(requestId, batchIndex) as { label: number } | undefined;
    if (known !== undefined) {
      if (known.label === outcome.label) {
        add('duplicate_outcomes');
        result.duplicates++;
      } else {
        add('conflicting_outcomes');
        result.conflicts++;
      }
      return;
    }
    add('outcomes');
    result.recorded++;
    const joined = this.sql.joinPending.all(
      requestId,
      batchIndex,
      outcome.label,
      outcome.observedAtMs,
      receivedAt,
    ) as { shadow: number }[];
    for (const { shadow } of joined) add(shadow ? 'shadow_labeled_examples' : 'labeled_examples');
    result.joined += joined.length;
    if (joined.length > 0) {
      this.sql.deletePending.run(requestId, batchIndex);
      return;
    }
    this.sql.insertOutcome.run(
      requestId,
      batchIndex,
      outcome.label,
      outcome.observedAtMs,
      receivedAt,
      outcome.entityType,
      outcome.entityKey,
      outcome.scorer,
      outcome.source,
    );
  }
}

/** What the store knows about a prediction's item. */
interface PredictionState {
  seen: number;
  label: number | null;
  observed_at_ms: number | null;
  /** 1 when the outcome waits in pending_outcomes (0 when it was joined already). */
  waiting: number;
}

/** The prediction's columns in PREDICTION_COLUMNS order. */
function predictionColumns(prediction: PredictionInput): (string | number)[] {
  const r = predictionRow(prediction);
  return [
    r.request_id,
    r.batch_index,
    r.shadow,
    r.model,
    r.version,
    r.scorer,
    r.entity_type,
    r.entity_key,
    r.features,
    r.feature_flags,
    r.outputs,
    r.score,
    r.degraded,
    r.reasons,
    r.predicted_at_ms,
    r.trace_id,
    r.tenant,
  ];
}

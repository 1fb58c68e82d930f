import type { DatabaseSync, StatementSync } from 'node:sqlite';

/**
 * The labelled-example store's tables. `labeled_examples` is the one data scientists read (one
 * row per joined item; see labeled-example.ts); `pending_predictions` and `pending_outcomes` hold
 * the join's waits (an item's outcome, once joined, is found in `labeled_examples`), the others, its counts and
 * where each input stream was read up to.
 */
export const LABELS_SCHEMA = `
CREATE TABLE IF NOT EXISTS labeled_examples (
  request_id TEXT NOT NULL,
  batch_index INTEGER NOT NULL,
  shadow INTEGER NOT NULL,
  model TEXT NOT NULL,
  version TEXT NOT NULL,
  scorer TEXT NOT NULL,
  entity_type TEXT NOT NULL,
  entity_key TEXT NOT NULL,
  features TEXT NOT NULL,
  feature_flags TEXT NOT NULL,
  outputs TEXT NOT NULL,
  score REAL NOT NULL,
  degraded INTEGER NOT NULL,
  reasons TEXT NOT NULL,
  label REAL NOT NULL,
  predicted_at_ms INTEGER NOT NULL,
  observed_at_ms INTEGER NOT NULL,
  joined_at_ms INTEGER NOT NULL,
  trace_id TEXT NOT NULL,
  tenant TEXT NOT NULL,
  PRIMARY KEY (request_id, batch_index, shadow)
);
CREATE INDEX IF NOT EXISTS labeled_examples_by_model_time
  ON labeled_examples (model, shadow, predicted_at_ms);
CREATE TABLE IF NOT EXISTS pending_predictions (
  request_id TEXT NOT NULL,
  batch_index INTEGER NOT NULL,
  shadow INTEGER NOT NULL,
  model TEXT NOT NULL,
  version TEXT NOT NULL,
  scorer TEXT NOT NULL,
  entity_type TEXT NOT NULL,
  entity_key TEXT NOT NULL,
  features TEXT NOT NULL,
  feature_flags TEXT NOT NULL,
  outputs TEXT NOT NULL,
  score REAL NOT NULL,
  degraded INTEGER NOT NULL,
  reasons TEXT NOT NULL,
  predicted_at_ms INTEGER NOT NULL,
  trace_id TEXT NOT NULL,
  tenant TEXT NOT NULL,
  received_at_ms INTEGER NOT NULL,
  PRIMARY KEY (request_id, batch_index, shadow)
);
CREATE INDEX IF NOT EXISTS pending_predictions_by_age ON pending_predictions (received_at_ms);
CREATE TABLE IF NOT EXISTS pending_outcomes (
  request_id TEXT NOT NULL,
  batch_index INTEGER NOT NULL,
  label REAL NOT NULL,
  observed_at_ms INTEGER NOT NULL,
  received_at_ms INTEGER NOT NULL,
  entity_type TEXT NOT NULL,
  entity_key TEXT NOT NULL,
  scorer TEXT NOT NULL,
  source TEXT NOT NULL,
  PRIMARY KEY (request_id, batch_index)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS pending_outcomes_by_age ON pending_outcomes (received_at_ms);
CREATE TABLE IF NOT EXISTS join_counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS stream_positions (stream TEXT PRIMARY KEY, next TEXT NOT NULL) WITHOUT ROWID;
`;

/** The prediction's columns, shared by the pending table and the labelled examples. */
const PREDICTION_COLUMNS =
  'request_id, batch_index, shadow, model, version, scorer, entity_type, entity_key, features, ' +
  'feature_flags, outputs, score, degraded, reasons, predicted_at_ms, trace_id, tenant';

/** Every statement of the store, prepared once. Numbered parameters bind in order. */
export function prepareStatements(db: DatabaseSync) {
  const s = (sql: string): StatementSync => db.prepare(sql);
  return {
    ...bookkeepingStatements(s),
    countPendingPredictions: s('SELECT count(*) AS n FROM pending_predictions'),
    countPendingOutcomes: s('SELECT count(*) AS n FROM pending_outcomes'),
    /**
     * For a prediction: was it seen (joined or waiting), and the item's outcome if one is known
     * (waiting, or joined already with the item's served or shadow prediction).
     */
    predictionState: s(
      `SELECT
         EXISTS (SELECT 1 FROM labeled_examples WHERE request_id = ?1 AND batch_index = ?2 AND shadow = ?3)
         OR EXISTS (SELECT 1 FROM pending_predictions WHERE request_id = ?1 AND batch_index = ?2 AND shadow = ?3)
           AS seen,
         coalesce(o.label, j.label) AS label,
         coalesce(o.observed_at_ms, j.observed_at_ms) AS observed_at_ms,
         o.label IS NOT NULL AS waiting
       FROM (SELECT 1)
       LEFT JOIN pending_outcomes o ON o.request_id = ?1 AND o.batch_index = ?2
       LEFT JOIN (SELECT label, observed_at_ms FROM labeled_examples
                  WHERE request_id = ?1 AND batch_index = ?2 LIMIT 1) j`,
    ),
    /** For an outcome: the label already known for the item, waiting or joined. */
    knownLabel: s(
      `SELECT label FROM pending_outcomes WHERE request_id = ?1 AND batch_index = ?2
       UNION ALL
       SELECT label FROM labeled_examples WHERE request_id = ?1 AND batch_index = ?2
       LIMIT 1`,
    ),
    insertPending: s(
      `INSERT INTO pending_predictions (${PREDICTION_COLUMNS}, received_at_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    /** Joins the waiting predictions of an item with its outcome; returns their shadow flags. */
    joinPending: s(
      `INSERT INTO labeled_examples (${PREDICTION_COLUMNS}, label, observed_at_ms, joined_at_ms)
       SELECT ${PREDICTION_COLUMNS}, ?3, ?4, ?5 FROM pending_predictions
       WHERE request_id = ?1 AND batch_index = ?2
       RETURNING shadow`,
    ),
    deletePending: s('DELETE FROM pending_predictions WHERE request_id = ? AND batch_index = ?'),
    insertOutcome: s(
      'INSERT INTO pending_outcomes (request_id, batch_index, label, observed_at_ms, received_at_ms, entity_type, entity_key, scorer, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    deleteOutcome: s('DELETE FROM pending_outcomes WHERE request_id = ? AND batch_index = ?'),
    insertExample: s(
      `INSERT INTO labeled_examples (${PREDICTION_COLUMNS}, label, observed_at_ms, joined_at_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    ...expiryStatements(s),
    examples: s(
      `SELECT * FROM labeled_examples
       WHERE (?1 IS NULL OR model = ?1) AND (?2 IS NULL OR shadow = ?2)
       ORDER BY predicted_at_ms, request_id, batch_index, shadow`,
    ),
  };
}

/** The statements that end waits past the join window. */
function expiryStatements(s: (sql: string) => StatementSync) {
  return {
    expirePredictions: s('DELETE FROM pending_predictions WHERE received_at_ms < ?'),
    expireOutcomes: s('DELETE FROM pending_outcomes WHERE received_at_ms < ?'),
  };
}

/** Stream positions and counters. */
function bookkeepingStatements(s: (sql: string) => StatementSync) {
  return {
    getPosition: s('SELECT next FROM stream_positions WHERE stream = ?'),
    setPosition: s(
      'INSERT INTO stream_positions (stream, next) VALUES (?, ?) ON CONFLICT (stream) DO UPDATE SET next = excluded.next',
    ),
    addCounter: s(
      'INSERT INTO join_counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = value + excluded.value',
    ),
    allCounters: s('SELECT name, value FROM join_counters'),
  };
}

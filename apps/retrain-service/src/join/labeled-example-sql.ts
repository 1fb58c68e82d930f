import type { DatabaseSync, StatementSync } from 'node:sqlite';

/**
 * The labelled-example store's tables. `labeled_examples` is the one data scientists read (one
 * row per joined item; see labeled-example.ts); the others hold the join's waits, its counts and
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
  received_at_ms INTEGER NOT NULL,
  event BLOB NOT NULL,
  PRIMARY KEY (request_id, batch_index, shadow)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS pending_predictions_by_age ON pending_predictions (received_at_ms);
CREATE TABLE IF NOT EXISTS outcomes (
  request_id TEXT NOT NULL,
  batch_index INTEGER NOT NULL,
  label REAL NOT NULL,
  observed_at_ms INTEGER NOT NULL,
  received_at_ms INTEGER NOT NULL,
  matched INTEGER NOT NULL,
  entity_type TEXT NOT NULL,
  entity_key TEXT NOT NULL,
  scorer TEXT NOT NULL,
  source TEXT NOT NULL,
  PRIMARY KEY (request_id, batch_index)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS outcomes_by_age ON outcomes (received_at_ms);
CREATE TABLE IF NOT EXISTS join_counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS stream_positions (stream TEXT PRIMARY KEY, next TEXT NOT NULL) WITHOUT ROWID;
`;

/** Every statement of the store, prepared once. */
export function prepareStatements(db: DatabaseSync) {
  const s = (sql: string): StatementSync => db.prepare(sql);
  return {
    getPosition: s('SELECT next FROM stream_positions WHERE stream = ?'),
    setPosition: s(
      'INSERT INTO stream_positions (stream, next) VALUES (?, ?) ON CONFLICT (stream) DO UPDATE SET next = excluded.next',
    ),
    addCounter: s(
      'INSERT INTO join_counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = value + excluded.value',
    ),
    allCounters: s('SELECT name, value FROM join_counters'),
    countPendingPredictions: s('SELECT count(*) AS n FROM pending_predictions'),
    countPendingOutcomes: s('SELECT count(*) AS n FROM outcomes WHERE matched = 0'),
    hasExample: s(
      'SELECT 1 FROM labeled_examples WHERE request_id = ? AND batch_index = ? AND shadow = ?',
    ),
    getExampleLabel: s(
      'SELECT label FROM labeled_examples WHERE request_id = ? AND batch_index = ? LIMIT 1',
    ),
    hasPendingPrediction: s(
      'SELECT 1 FROM pending_predictions WHERE request_id = ? AND batch_index = ? AND shadow = ?',
    ),
    insertPending: s(
      'INSERT INTO pending_predictions (request_id, batch_index, shadow, received_at_ms, event) VALUES (?, ?, ?, ?, ?)',
    ),
    pendingFor: s(
      'SELECT shadow, event FROM pending_predictions WHERE request_id = ? AND batch_index = ?',
    ),
    deletePending: s(
      'DELETE FROM pending_predictions WHERE request_id = ? AND batch_index = ? AND shadow = ?',
    ),
    getOutcome: s(
      'SELECT label, observed_at_ms, matched FROM outcomes WHERE request_id = ? AND batch_index = ?',
    ),
    insertOutcome: s(
      'INSERT INTO outcomes (request_id, batch_index, label, observed_at_ms, received_at_ms, matched, entity_type, entity_key, scorer, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    markMatched: s('UPDATE outcomes SET matched = 1 WHERE request_id = ? AND batch_index = ?'),
    expirePredictions: s('DELETE FROM pending_predictions WHERE received_at_ms < ?'),
    expireUnmatchedOutcomes: s('DELETE FROM outcomes WHERE matched = 0 AND received_at_ms < ?'),
    forgetMatchedOutcomes: s('DELETE FROM outcomes WHERE matched = 1 AND received_at_ms < ?'),
    insertExample: s(
      `INSERT INTO labeled_examples (request_id, batch_index, shadow, model, version, scorer,
        entity_type, entity_key, features, outputs, score, degraded, reasons, label,
        predicted_at_ms, observed_at_ms, joined_at_ms, trace_id, tenant)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    examples: s(
      `SELECT * FROM labeled_examples
       WHERE (?1 IS NULL OR model = ?1) AND (?2 IS NULL OR shadow = ?2)
       ORDER BY predicted_at_ms, request_id, batch_index, shadow`,
    ),
  };
}

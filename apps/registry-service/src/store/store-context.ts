import type { FeatureViews } from '../feature-views.js';
import type { SqlDatabase } from './sql-database.js';
import type { Write } from './write-transaction.js';

/** What the store's operations share. */
export interface StoreContext {
  readonly db: SqlDatabase;
  /** Runs one write transaction (see write-transaction.ts). */
  readonly write: Write;
  /** Clock, in epoch milliseconds. */
  readonly now: () => number;
  /** The feature views scorers' contracts are checked against; unchecked when absent. */
  readonly featureViews?: FeatureViews | undefined;
}

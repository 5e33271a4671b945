import type { QualifiedName, SqlExpression } from '../../sql/index.js';
import type { SyncColumnOptions } from './sync-columns.js';
import type { SyncOperation } from './sync-operations.js';
import type { SyncDependencyOptions } from './dependencies/dependency-options.js';
import type { ConflictPolicyOptions } from './sync-conflicts.js';
import type { IgnoreWrites, SyncDelivery, SyncTiming } from './sync-trigger-node.js';

/** What syncTrigger() takes for a sync to another database, through a link. */
export interface SyncTriggerOptions {
  /** The link (foreign server) the changes go through. */
  readonly server: string;
  /** The local table whose changes are sent. */
  readonly table: string | QualifiedName;
  /** The remote table that receives them (its sync endpoint must be installed there); defaults to public and the local name. */
  readonly remote?: {
    /** The remote schema (default public). */
    readonly schema?: string;
    /** The remote table's name (default the local name). */
    readonly name?: string;
  };
  /** Remote key columns: how a row is found on the other side. */
  readonly key: readonly string[];
  /** Remote columns and where their values come from; see SyncColumnOptions. */
  readonly columns: readonly SyncColumnOptions[];
  /** Which changes to send; all three by default. */
  readonly operations?: readonly SyncOperation[];
  /**
   * Skip changes made by the other side's sync: the role its user mapping connects as
   * (preferred: no client can pretend to be it without its password), or the
   * application_name its server sets (any client can set it, and would skip sync silently; with
   * `conflicts`, its writes are also settled as the other side's, and may be dropped).
   */
  readonly ignoreWritesBy?: IgnoreWrites;
  /** Rows per round trip to the other side (postgres_fdw batch_size); default 1000. */
  readonly batchSize?: number;
  /**
   * `immediate` (default): each statement's rows are sent when the statement ends.
   * `commit`: rows are sent as they are at commit, so computed columns may read rows written
   * later in the same transaction; needs key columns that are plain local columns.
   */
  readonly timing?: SyncTiming;
  /**
   * `write-through` (default): the other side is written in the writer's transaction, and a
   * write fails when it cannot be. `outbox`: the write only records the changed keys locally;
   * a drain (SQL function or `startOutboxWorker`) delivers them later, so writes go on while
   * the other side is down. Needs key columns that are plain local columns.
   */
  readonly delivery?: SyncDelivery;
  /**
   * Local tables the column expressions read (lookups), and which synced rows read each row of
   * them: an INSERT, UPDATE or DELETE there sends those rows again, with this sync's delivery and
   * timing. None by default. See SyncDependencyOptions.
   */
  readonly dependsOn?: readonly SyncDependencyOptions[];
  /**
   * Two-way outbox: how a key changed on both sides between drains is settled, e.g.
   * `{ thisSide: 'app', latest: 'updated_at', ties: 'legacy' }` or `{ thisSide: 'app', winner: 'legacy' }`.
   * Declare the same policy on both sides. Each conflict is recorded in a conflict log table.
   * Needs `delivery: 'outbox'` and `ignoreWritesBy`. None by default: the last delivery wins.
   */
  readonly conflicts?: ConflictPolicyOptions;
  /**
   * Sends only the rows that match: a condition over the local row `src`, made with
   * sqlExpression() (e.g. `sqlExpression('src.user_id IS NOT NULL')`). An update that makes a
   * sent row stop matching deletes it on the other side; one that makes it match sends it; a
   * change of a row that matches neither before nor after sends nothing. Default: every row.
   */
  readonly where?: SqlExpression;
}

/** Every option syncTrigger() takes for a sync through a link (anything else is refused). */
export const SYNC_TRIGGER_KEYS = [
  'server',
  'table',
  'remote',
  'key',
  'columns',
  'operations',
  'ignoreWritesBy',
  'batchSize',
  'timing',
  'delivery',
  'dependsOn',
  'conflicts',
  'where',
] as const;

import type { QualifiedName, SqlExpression } from '../../sql/index.js';
import type { SyncColumn } from './sync-columns.js';
import type { SyncDependency } from './dependencies/dependency-options.js';
import type { ConflictPolicy } from './sync-conflicts.js';
import type { SyncOperation } from './sync-operations.js';

// The node a sync trigger is, apart from the function that builds it, so the senders that
// render it (sender/*) and the builder (sync-trigger.ts) do not import each other.

/** Writes that arrived through the other side's link, which must not travel back. */
export type IgnoreWrites =
  | {
      /** The role the other side's user mapping connects as. */
      readonly role: string;
    }
  | {
      /** The application_name the other side's server sets on its connections. */
      readonly applicationName: string;
    };

/** How rows reach the other side: in the writer's transaction, or later through an outbox. */
export type SyncDelivery = 'write-through' | 'outbox';

/** When write-through rows are read and sent: at the end of each statement, or at commit. */
export type SyncTiming = 'immediate' | 'commit';

/** What every sync to another database has, whatever its delivery. */
interface SyncTriggerFields {
  /** Tells the node kinds apart. */
  readonly kind: 'sync-trigger';
  /** The link (foreign server) the changes go through. */
  readonly server: string;
  /** The local table whose changes are sent, schema given. */
  readonly table: QualifiedName;
  /** The remote table that receives them. */
  readonly remote: {
    /** The remote schema. */
    readonly schema: string;
    /** The remote table's name. */
    readonly name: string;
  };
  /** Remote key columns: how a row is found on the other side. */
  readonly key: readonly string[];
  /** Remote columns and where their values come from. */
  readonly columns: readonly SyncColumn[];
  /** Which changes are sent. */
  readonly operations: readonly SyncOperation[];
  /** Writes that are not sent back: those of this role or application_name. */
  readonly ignoreWritesBy: IgnoreWrites | undefined;
  /** Rows per round trip to the other side. */
  readonly batchSize: number;
  /** Local tables the column expressions read; a change there sends the rows that read it. None when absent. */
  readonly dependsOn?: readonly SyncDependency[];
  /** Which rows are sent: a condition over the row `src`; undefined sends every row. */
  readonly where?: SqlExpression | undefined;
}

/** A sync that writes the other side in the writer's transaction, when each statement ends or at commit. */
export interface WriteThroughSyncNode extends SyncTriggerFields {
  /** When rows are read and sent: `immediate` (end of each statement) or `commit`. */
  readonly timing: SyncTiming;
  /** Written in the writer's transaction. */
  readonly delivery: 'write-through';
}

/** A sync that records changed keys in an outbox; rows are read when drained, so timing is always 'immediate'. */
export interface OutboxSyncNode extends SyncTriggerFields {
  /** Always `immediate`: rows are read when the outbox is drained. */
  readonly timing: 'immediate';
  /** Recorded in an outbox and delivered by a drain. */
  readonly delivery: 'outbox';
  /** Two-way: how a key changed on both sides between drains is settled; undefined when not declared. */
  readonly conflicts?: ConflictPolicy;
}

/** A checked sync to another database, as syncTrigger() builds it: one shape per delivery. */
export type SyncTriggerNode = WriteThroughSyncNode | OutboxSyncNode;

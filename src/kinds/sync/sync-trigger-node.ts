import type { QualifiedName } from '../../sql/index.js';
import type { SyncColumn } from './sync-columns.js';
import type { SyncOperation } from './sync-operations.js';

// The node a sync trigger is, apart from the function that builds it, so the senders that
// render it (sender/*) and the builder (sync-trigger.ts) do not import each other.

/** Writes that arrived through the other side's link, which must not travel back. */
export type IgnoreWrites = { readonly role: string } | { readonly applicationName: string };

/** How rows reach the other side: in the writer's transaction, or later through an outbox. */
export type SyncDelivery = 'write-through' | 'outbox';

/** When write-through rows are read and sent: at the end of each statement, or at commit. */
export type SyncTiming = 'immediate' | 'commit';

/** What every sync to another database has, whatever its delivery. */
interface SyncTriggerFields {
  readonly kind: 'sync-trigger';
  readonly server: string;
  readonly table: QualifiedName;
  readonly remote: { readonly schema: string; readonly name: string };
  readonly key: readonly string[];
  readonly columns: readonly SyncColumn[];
  readonly operations: readonly SyncOperation[];
  readonly ignoreWritesBy: IgnoreWrites | undefined;
  readonly batchSize: number;
}

/** A sync that writes the other side in the writer's transaction, when each statement ends or at commit. */
export interface WriteThroughSyncNode extends SyncTriggerFields {
  readonly timing: SyncTiming;
  readonly delivery: 'write-through';
}

/** A sync that records changed keys in an outbox; rows are read when drained, so timing is always 'immediate'. */
export interface OutboxSyncNode extends SyncTriggerFields {
  readonly timing: 'immediate';
  readonly delivery: 'outbox';
}

/** A checked sync to another database, as syncTrigger() builds it: one shape per delivery. */
export type SyncTriggerNode = WriteThroughSyncNode | OutboxSyncNode;

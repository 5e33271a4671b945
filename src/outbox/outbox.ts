import { InvalidOptionError } from '../errors.js';
import { outboxObjects } from '../kinds/sync/sync-names.js';
import type { SyncTriggerNode } from '../kinds/sync/sync-trigger.js';
import { previewSql, qualified, sql, type QualifiedName } from '../sql/index.js';
import { withSession, type DatabaseTarget } from '../run/session.js';
import { rows } from '../run/rows.js';

/** Where an outbox sync keeps its state: tables, the drain function, its NOTIFY channel. */
export interface OutboxNames {
  /** Changed keys not yet delivered. */
  readonly outbox: QualifiedName;
  /** `SELECT * FROM <drain>(max_changes)` delivers one batch: `(delivered integer, error text)`. */
  readonly drain: QualifiedName;
  /** One row: pending, oldest_pending_age, last_delivered_at, delivered_total, last_error... */
  readonly lag: QualifiedName;
  /** NOTIFY'd (empty payload) when a transaction that recorded changes commits. */
  readonly channel: string;
  /** For messages: `products to server legacy`. */
  readonly label: string;
}

/**
 * The names of an outbox sync's objects, for your own queries and monitoring. Throws for a sync that is not `delivery: 'outbox'`.
 */
export function outboxNames(sync: SyncTriggerNode): OutboxNames {
  if (typeof sync !== 'object' || sync === null || sync.kind !== 'sync-trigger' || sync.delivery !== 'outbox') {
    throw new InvalidOptionError("Expected a syncTrigger({ ..., delivery: 'outbox' }).", 'sync');
  }
  const objects = outboxObjects(sync.table, sync.server);
  return { outbox: objects.outbox, drain: objects.drain, lag: objects.lag, channel: objects.channel, label: `${sync.table.name} to server ${sync.server}` };
}

/** The result of one drain: how many recorded changes were delivered, or why none were. */
export interface DrainResult {
  /** Recorded changes delivered. */
  readonly delivered: number;
  /** Set when the other side could not be written; the batch stays for the next drain. */
  readonly error: string | null;
}

/** The SQL that delivers one batch, with the batch size as $1. */
export function drainStatement(names: OutboxNames): string {
  return previewSql(sql`SELECT delivered, error FROM ${qualified(names.drain)}($1)`);
}

export function checkBatchSize(value: unknown, path: string): number {
  const size = value ?? 1000;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 1) {
    throw new InvalidOptionError(`${path} must be a whole number, 1 or more.`, path);
  }
  return size;
}

/**
 * Delivers what the outbox holds, batch after batch, until it is empty or a batch fails.
 * Each batch is its own transaction: what was delivered stays delivered.
 */
export async function drainOutbox(
  target: DatabaseTarget,
  sync: SyncTriggerNode,
  options: {
    /** Changes per batch (one transaction each); default 1000. */
    readonly batchSize?: number;
  } = {},
): Promise<{
  /** Changes delivered. */
  delivered: number;
  /** Why the last batch failed; null when the outbox was emptied. */
  error: string | null;
}> {
  const names = outboxNames(sync);
  const batchSize = checkBatchSize(options.batchSize, 'drainOutbox batchSize');
  return withSession(target, async (session) => {
    let delivered = 0;
    for (;;) {
      const row = (await rows<{ delivered: number; error: string | null }>(session.execute, drainStatement(names), [String(batchSize)]))[0]!;
      delivered += row.delivered;
      if (row.error !== null || row.delivered < batchSize) return { delivered, error: row.error };
    }
  });
}

/** How far behind an outbox is. */
export interface OutboxLag {
  /** Changed keys recorded and not yet delivered. */
  readonly pending: number;
  /** Seconds since the oldest undelivered change was recorded; null when none is pending. */
  readonly oldestPendingSeconds: number | null;
  /** When a drain last delivered a batch; null if never. */
  readonly lastDeliveredAt: Date | null;
  /** Changes delivered since the outbox was created. */
  readonly deliveredTotal: number;
  /** The error of the last failed drain, kept after later successes; null if none has failed. */
  readonly lastError: string | null;
  /** When a drain last failed; null if none has. */
  readonly lastErrorAt: Date | null;
  /** Drains that failed in a row; back to 0 when a batch is delivered. */
  readonly consecutiveFailures: number;
}

/**
 * How far behind an outbox sync is: pending changes, their age, the last delivery and the last error. Reads the outbox's lag view.
 */
export async function outboxLag(target: DatabaseTarget, sync: SyncTriggerNode): Promise<OutboxLag> {
  const names = outboxNames(sync);
  const text = previewSql(sql`SELECT pending::text, extract(epoch FROM oldest_pending_age)::float8 AS age, last_delivered_at, delivered_total::text,
  last_error, last_error_at, consecutive_failures FROM ${qualified(names.lag)}`);
  return withSession(target, async (session) => {
    const row = (await rows<Record<string, unknown>>(session.execute, text))[0]!;
    return {
      pending: Number(row.pending),
      oldestPendingSeconds: row.age === null ? null : Number(row.age),
      lastDeliveredAt: (row.last_delivered_at as Date | null) ?? null,
      deliveredTotal: Number(row.delivered_total),
      lastError: (row.last_error as string | null) ?? null,
      lastErrorAt: (row.last_error_at as Date | null) ?? null,
      consecutiveFailures: Number(row.consecutive_failures),
    };
  });
}

import { InvalidOptionError } from '../errors.js';
import { outboxObjects } from '../kinds/sync/sync-names.js';
import type { SyncTriggerNode } from '../kinds/sync/sync-trigger.js';
import { previewSql, qualified, sql, type QualifiedName } from '../sql/index.js';
import { withSession, type DatabaseTarget } from '../run/session.js';

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

export function outboxNames(sync: SyncTriggerNode): OutboxNames {
  if (typeof sync !== 'object' || sync === null || sync.kind !== 'sync-trigger' || sync.delivery !== 'outbox') {
    throw new InvalidOptionError("Expected a syncTrigger({ ..., delivery: 'outbox' }).", 'sync');
  }
  const objects = outboxObjects(sync.table, sync.server);
  return { outbox: objects.outbox, drain: objects.drain, lag: objects.lag, channel: objects.channel, label: `${sync.table.name} to server ${sync.server}` };
}

/** The result of one drain: how many recorded changes were delivered, or why none were. */
export interface DrainResult {
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
  options: { readonly batchSize?: number } = {},
): Promise<{ delivered: number; error: string | null }> {
  const names = outboxNames(sync);
  const batchSize = checkBatchSize(options.batchSize, 'drainOutbox batchSize');
  return withSession(target, async (session) => {
    let delivered = 0;
    for (;;) {
      const result = (await session.execute(drainStatement(names), [String(batchSize)])) as { rows: Array<{ delivered: number; error: string | null }> };
      const row = result.rows[0]!;
      delivered += row.delivered;
      if (row.error !== null || row.delivered < batchSize) return { delivered, error: row.error };
    }
  });
}

/** How far behind an outbox is. */
export interface OutboxLag {
  readonly pending: number;
  /** Seconds since the oldest undelivered change was recorded; null when none is pending. */
  readonly oldestPendingSeconds: number | null;
  readonly lastDeliveredAt: Date | null;
  readonly deliveredTotal: number;
  readonly lastError: string | null;
  readonly lastErrorAt: Date | null;
  readonly consecutiveFailures: number;
}

export async function outboxLag(target: DatabaseTarget, sync: SyncTriggerNode): Promise<OutboxLag> {
  const names = outboxNames(sync);
  const text = previewSql(sql`SELECT pending::text, extract(epoch FROM oldest_pending_age)::float8 AS age, last_delivered_at, delivered_total::text,
  last_error, last_error_at, consecutive_failures FROM ${qualified(names.lag)}`);
  return withSession(target, async (session) => {
    const { rows } = (await session.execute(text, [])) as { rows: Array<Record<string, unknown>> };
    const row = rows[0]!;
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

import { InvalidOptionError } from '../errors.js';
import { DEFAULT_MAX_ATTEMPTS } from '../kinds/sync/sender/sync-outbox-drain.js';
import { displayName } from '../kinds/sync/sender/sync-sender-sql.js';
import { outboxObjects } from '../kinds/sync/sync-names.js';
import type { SyncTriggerNode } from '../kinds/sync/sync-trigger.js';
import { previewSql, qualified, quoteIdentifier, sql, type QualifiedName } from '../sql/index.js';
import { withSession, type DatabaseTarget } from '../run/session.js';
import { rows } from '../run/rows.js';

/** Where an outbox sync keeps its state: tables, the drain function, its NOTIFY channel. */
export interface OutboxNames {
  /** Changed keys not yet delivered. */
  readonly outbox: QualifiedName;
  /** `SELECT * FROM <drain>(max_changes, max_attempts)` delivers one batch: `(delivered integer, set_aside integer, error text)`. */
  readonly drain: QualifiedName;
  /** Keys the other side rejected `max_attempts` times, with `pg_sync_attempts`, `pg_sync_error`, `pg_sync_first_recorded_at`, `pg_sync_set_aside_at`. */
  readonly failed: QualifiedName;
  /** `SELECT <retry>()` (or `<retry>('{"id": 2}')`) puts set-aside keys back in the outbox; returns how many. */
  readonly retry: QualifiedName;
  /** `SELECT <discard>()` (or with a key as JSON) drops set-aside keys and their held changes; returns how many keys. */
  readonly discard: QualifiedName;
  /** One row: pending, oldest_pending_age, last_delivered_at, delivered_total, last_error... */
  readonly lag: QualifiedName;
  /** NOTIFY'd (empty payload) when a transaction that recorded changes commits. */
  readonly channel: string;
  /** For messages: `public.products to server legacy` (names quoted where SQL would need it). */
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
  return {
    outbox: objects.outbox,
    drain: objects.drain,
    failed: objects.failed,
    retry: objects.retry,
    discard: objects.discard,
    lag: objects.lag,
    channel: objects.channel,
    label: `${displayName(sync.table)} to server ${quoteIdentifier(sync.server)}`,
  };
}

/** The result of one drain: how many recorded changes were delivered, or why none were. */
export interface DrainResult {
  /** Recorded changes delivered. */
  readonly delivered: number;
  /** Keys set aside by this drain: the other side rejected them `maxAttempts` times. */
  readonly setAside: number;
  /** Set when the other side could not be written; the batch stays for the next drain. */
  readonly error: string | null;
}

/** The SQL that delivers one batch, with the batch size as $1 and the attempts before a key is set aside as $2. */
export function drainStatement(names: OutboxNames): string {
  return previewSql(sql`SELECT delivered, set_aside, error FROM ${qualified(names.drain)}($1, $2)`);
}

/** The drain's `max_attempts`: a whole number, 1 or more; DEFAULT_MAX_ATTEMPTS when not given. */
export function checkMaxAttempts(value: unknown, path: string): number {
  const attempts = value ?? DEFAULT_MAX_ATTEMPTS;
  if (typeof attempts !== 'number' || !Number.isSafeInteger(attempts) || attempts < 1 || attempts > 2_147_483_647) {
    throw new InvalidOptionError(`${path} must be a whole number, 1 or more (default ${DEFAULT_MAX_ATTEMPTS}).`, path);
  }
  return attempts;
}

/** The drain's `max_changes`: a whole number, 1 or more; 1000 when not given. */
export function checkBatchSize(value: unknown, path: string): number {
  const size = value ?? 1000;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 1) {
    throw new InvalidOptionError(`${path} must be a whole number, 1 or more.`, path);
  }
  return size;
}

/**
 * Delivers what the outbox holds, batch after batch, until it is empty or a batch fails. A key
 * the other side rejects `maxAttempts` times (default 5, counted across drains) is set aside.
 * Each batch is its own transaction: what was delivered stays delivered.
 */
export async function drainOutbox(
  target: DatabaseTarget,
  sync: SyncTriggerNode,
  options: {
    /** Changes per batch (one transaction each); default 1000. */
    readonly batchSize?: number;
    /** Deliveries of a key the other side rejects before it is set aside; default 5. */
    readonly maxAttempts?: number;
  } = {},
): Promise<DrainResult> {
  const names = outboxNames(sync);
  const batchSize = checkBatchSize(options.batchSize, 'drainOutbox batchSize');
  const maxAttempts = checkMaxAttempts(options.maxAttempts, 'drainOutbox maxAttempts');
  return withSession(target, async (session) => {
    let delivered = 0;
    let setAside = 0;
    for (;;) {
      const row = (
        await rows<{ delivered: number; set_aside: number; error: string | null }>(
          session.execute,
          drainStatement(names),
          [String(batchSize), String(maxAttempts)],
        ).catch((error: unknown) => {
          // Raised outside the drain's own handler (e.g. the other side died at commit): name the sync.
          const text = error instanceof Error ? error.message : String(error);
          throw new Error(`pg-sync-link: could not deliver the outbox of ${names.label}: ${text}`, { cause: error });
        })
      )[0]!;
      delivered += row.delivered;
      setAside += row.set_aside;
      if (row.error !== null || row.delivered + row.set_aside < batchSize)
        return { delivered, setAside, error: row.error };
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
  /** The last delivery failure, kept after deliveries succeed again (see `currentError`). */
  readonly lastError: string | null;
  /** When a drain last failed; null if none has. */
  readonly lastErrorAt: Date | null;
  /** Drains that failed in a row; back to 0 when a batch is delivered. */
  readonly consecutiveFailures: number;
  /** The failure of the latest delivery; null once a delivery succeeds (alert on this one). */
  readonly currentError: string | null;
  /** Keys set aside after the other side rejected them `maxAttempts` times (in the `_failed` table). */
  readonly setAside: number;
  /** Changes to set-aside keys, held in the outbox until those keys are retried or discarded. */
  readonly held: number;
}

/**
 * How far behind an outbox sync is: pending changes, their age, the last delivery and the last error. Reads the outbox's lag view.
 */
export async function outboxLag(target: DatabaseTarget, sync: SyncTriggerNode): Promise<OutboxLag> {
  const names = outboxNames(sync);
  const text =
    previewSql(sql`SELECT pending::text, extract(epoch FROM oldest_pending_age)::float8 AS age, last_delivered_at, delivered_total::text,
  last_error, last_error_at, consecutive_failures, current_error, set_aside::text, held::text FROM ${qualified(names.lag)}`);
  return withSession(target, async (session) => {
    const row = (
      await rows<{
        pending: string;
        age: number | null;
        last_delivered_at: Date | null;
        delivered_total: string;
        last_error: string | null;
        last_error_at: Date | null;
        consecutive_failures: number;
        current_error: string | null;
        set_aside: string | null;
        held: string | null;
      }>(session.execute, text)
    )[0]!;
    return {
      pending: Number(row.pending),
      oldestPendingSeconds: row.age === null ? null : Number(row.age),
      lastDeliveredAt: row.last_delivered_at,
      deliveredTotal: Number(row.delivered_total),
      lastError: row.last_error,
      lastErrorAt: row.last_error_at,
      consecutiveFailures: Number(row.consecutive_failures),
      currentError: row.current_error,
      setAside: Number(row.set_aside),
      held: Number(row.held),
    };
  });
}

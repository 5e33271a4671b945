import { InvalidOptionError } from '../errors.js';
import { CONFLICT_LOG_COMMENT, conflictObjects } from '../kinds/sync/sync-names.js';
import type { SyncTriggerNode } from '../kinds/sync/sync-trigger.js';
import { integer, join, literal, previewSql, qualified, sql, type QualifiedName } from '../sql/index.js';
import { rows } from '../run/rows.js';
import { withSession, type DatabaseTarget } from '../run/session.js';

/** One conflict a two-way outbox settled in this database: a key both sides changed between drains. */
export interface ConflictRecord {
  /** The log table it is in, e.g. `public.orders__conflicts_legacy`. */
  readonly log: QualifiedName;
  /** Its id in that table (grows with each conflict). */
  readonly id: number;
  /** When it was settled: the start of the transaction that delivered the other side's version. */
  readonly detectedAt: Date;
  /** The sync whose outbox held this side's change: `public.orders to public.orders on server legacy`. */
  readonly sync: string;
  /** The row's key, e.g. `{ id: 42 }`. */
  readonly key: Record<string, unknown>;
  /** This database's name in the policy. */
  readonly thisSide: string;
  /** This side's row when the conflict was found; null when this side had deleted it. */
  readonly thisVersion: Record<string, unknown> | null;
  /** The other side's name (the link's). */
  readonly otherSide: string;
  /** The other side's row as delivered; null when the other side had deleted it. */
  readonly otherVersion: Record<string, unknown> | null;
  /** The side whose version both sides now have. */
  readonly winner: string;
  /** The policy that decided, in words: `latest updated_at, ties to legacy` or `legacy wins`. */
  readonly policy: string;
}

/** What listConflicts() takes. */
export interface ListConflictsOptions {
  /** Only this sync's conflicts (a syncTrigger with `conflicts`); every conflict log in the database by default. */
  readonly sync?: SyncTriggerNode;
  /** Only conflicts settled at or after this time; all by default. */
  readonly since?: Date;
  /** At most this many, newest first; default 100. */
  readonly limit?: number;
}

/** The conflict log tables in the database, found by the comment their migration puts on them. */
export async function conflictLogs(
  execute: Parameters<typeof rows>[0],
): Promise<Array<{ schema: string; name: string }>> {
  return rows<{ schema: string; name: string }>(
    execute,
    `SELECT n.nspname::text AS schema, c.relname::text AS name
     FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_catalog.pg_description d ON d.objoid = c.oid AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objsubid = 0
     WHERE c.relkind = 'r' AND pg_catalog.starts_with(d.description, $1) ORDER BY 1, 2`,
    [`${CONFLICT_LOG_COMMENT} of `],
  );
}

function checkOptions(options: ListConflictsOptions): { limit: number; log: QualifiedName | undefined } {
  const limit = options.limit ?? 100;
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1) {
    throw new InvalidOptionError('listConflicts limit must be a whole number, 1 or more (default 100).', 'limit');
  }
  if (options.since !== undefined && !(options.since instanceof Date && !Number.isNaN(options.since.getTime()))) {
    throw new InvalidOptionError('listConflicts since must be a valid Date.', 'since');
  }
  const sync = options.sync;
  if (sync === undefined) return { limit, log: undefined };
  if (typeof sync !== 'object' || sync === null || sync.kind !== 'sync-trigger' || sync.delivery !== 'outbox') {
    throw new InvalidOptionError(
      "listConflicts sync must be a syncTrigger({ ..., delivery: 'outbox', conflicts }).",
      'sync',
    );
  }
  if (sync.conflicts === undefined) {
    throw new InvalidOptionError(
      `listConflicts: the sync of ${sync.table.name} to server ${sync.server} declares no conflicts policy, so it keeps no conflict log.`,
      'sync',
    );
  }
  return { limit, log: conflictObjects(sync.table, sync.server).log };
}

/**
 * The conflicts two-way outboxes settled in this database, newest first: for each, the key, both
 * versions, the winner and the policy. Reads every conflict log (or one sync's). A conflict is
 * recorded on the side that received the other side's version while still holding its own.
 *
 * @example
 * const recent = await listConflicts(pool, { since: new Date(Date.now() - 86_400_000) });
 * // [{ sync: 'public.orders to public.orders on server legacy', key: { id: 42 }, winner: 'legacy', ... }]
 */
export async function listConflicts(
  target: DatabaseTarget,
  options: ListConflictsOptions = {},
): Promise<ConflictRecord[]> {
  const { limit, log } = checkOptions(options);
  return withSession(target, async (session) => {
    const logs = log ? [{ schema: log.schema ?? 'public', name: log.name }] : await conflictLogs(session.execute);
    if (logs.length === 0) return [];
    const since = options.since
      ? sql`WHERE detected_at >= ${literal(options.since.toISOString())}::timestamptz`
      : sql``;
    const parts = logs.map(
      (
        table,
      ) => sql`(SELECT ${literal(table.schema)} AS log_schema, ${literal(table.name)} AS log_name, id::text, detected_at, sync, key,
  this_side, this_version, other_side, other_version, winner, policy FROM ${qualified(table)} ${since})`,
    );
    const text = previewSql(
      sql`SELECT * FROM (${join(parts, ' UNION ALL ')}) AS c ORDER BY detected_at DESC, id::bigint DESC LIMIT ${integer(limit)}`,
    );
    const found = await rows<Record<string, unknown>>(session.execute, text);
    return found.map((row) => ({
      log: { schema: String(row.log_schema), name: String(row.log_name) },
      id: Number(row.id),
      detectedAt: row.detected_at as Date,
      sync: String(row.sync),
      key: row.key as Record<string, unknown>,
      thisSide: String(row.this_side),
      thisVersion: (row.this_version as Record<string, unknown> | null) ?? null,
      otherSide: String(row.other_side),
      otherVersion: (row.other_version as Record<string, unknown> | null) ?? null,
      winner: String(row.winner),
      policy: String(row.policy),
    }));
  });
}

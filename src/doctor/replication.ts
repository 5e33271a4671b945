import { quoteIdentifier, quoteLiteral } from '../sql/index.js';
import { finding, type Finding } from './findings.js';
import type { Query } from './inventory.js';

// Logical replication fails quietly: an apply worker that hits a duplicate key retries forever,
// a table that never finished its copy receives nothing, a slot whose subscriber is gone keeps
// WAL until the disk fills. These checks read the catalogs and statistics views that show it.

const THIS_DATABASE = `(SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database())`;

interface SubscriptionRow {
  oid: string;
  name: string;
  enabled: boolean;
  slot: string | null;
  disable_on_error: boolean;
  apply_workers: number;
  not_ready: string[] | null;
  stats: Record<string, unknown> | null;
}

/** PostgreSQL 18's conflict counters (pg_stat_subscription_stats), and what each means here. */
const CONFLICTS: Readonly<Record<string, string>> = {
  confl_insert_exists: 'inserts of a key that exists here (the apply worker stops on each)',
  confl_update_exists: 'updates to a key that exists here (the apply worker stops on each)',
  confl_multiple_unique_conflicts: 'changes that break several unique constraints (the apply worker stops on each)',
  confl_update_missing: 'updates of rows missing here (skipped: the sides differ)',
  confl_delete_missing: 'deletes of rows missing here (skipped: the sides differ)',
  confl_update_origin_differs: 'updates of rows last changed by another origin (applied over them)',
  confl_delete_origin_differs: 'deletes of rows last changed by another origin (applied)',
};

const count = (stats: Record<string, unknown> | null, key: string) => Number(stats?.[key] ?? 0);

/**
 * The subscriptions of this database: enabled, their apply worker running, no apply or copy
 * errors and no conflicts counted since the statistics were reset, every table copied ('r').
 */
export async function subscriptionFindings(query: Query, versionNum: number): Promise<Finding[]> {
  const since15 = versionNum >= 150000;
  // pg_stat_subscription lists the apply worker with relid NULL (and table-sync workers with one).
  const rows = await query<SubscriptionRow>(
    `SELECT s.oid::text AS oid, s.subname::text AS name, s.subenabled AS enabled, s.subslotname::text AS slot,
       ${since15 ? 's.subdisableonerr' : 'false'} AS disable_on_error,
       (SELECT pg_catalog.count(*)::int FROM pg_catalog.pg_stat_subscription w WHERE w.subid = s.oid AND w.relid IS NULL AND w.pid IS NOT NULL) AS apply_workers,
       (SELECT pg_catalog.array_agg(r.srrelid::pg_catalog.regclass::text || ' (' || r.srsubstate::text || ')' ORDER BY 1) FROM pg_catalog.pg_subscription_rel r
         WHERE r.srsubid = s.oid AND r.srsubstate <> 'r') AS not_ready,
       ${since15 ? '(SELECT pg_catalog.to_jsonb(st) FROM pg_catalog.pg_stat_subscription_stats st WHERE st.subid = s.oid)' : 'NULL::jsonb'} AS stats
     FROM pg_catalog.pg_subscription s WHERE s.subdbid = ${THIS_DATABASE} ORDER BY 2`,
  );
  if (rows.length === 0) return [];
  const [commitTimestamps] = await query<{ on: boolean }>(
    `SELECT pg_catalog.current_setting('track_commit_timestamp')::bool AS on`,
  );
  const findings: Finding[] = [];
  for (const row of rows) {
    const name = quoteIdentifier(row.name);
    const subject = `subscription ${name}`;
    const problems: Finding[] = [];
    const applyErrors = count(row.stats, 'apply_error_count');
    const syncErrors = count(row.stats, 'sync_error_count');
    const reset = `SELECT pg_catalog.pg_stat_reset_subscription_stats(${row.oid});`;
    if (row.slot === null) {
      problems.push(
        finding(
          'subscription',
          'error',
          subject,
          `Subscription ${name} has no replication slot (slot_name = NONE): it receives nothing.`,
          `Give it its slot: ALTER SUBSCRIPTION ${name} SET (slot_name = '...'); ALTER SUBSCRIPTION ${name} ENABLE; or remove it: DROP SUBSCRIPTION ${name};`,
        ),
      );
    } else if (!row.enabled) {
      problems.push(
        finding(
          'subscription',
          row.disable_on_error && applyErrors > 0 ? 'error' : 'warning',
          subject,
          `Subscription ${name} is disabled${row.disable_on_error && applyErrors > 0 ? ' (disable_on_error, after an apply error)' : ''}: changes wait in slot ${quoteLiteral(row.slot)} on the publisher, which keeps their WAL.`,
          `Fix the cause in this server's log, then ALTER SUBSCRIPTION ${name} ENABLE;`,
        ),
      );
    } else if (row.apply_workers === 0) {
      problems.push(
        finding(
          'subscription',
          'warning',
          subject,
          `Subscription ${name} is enabled but its apply worker is not running: it is starting, failing and restarting, or cannot start (max_logical_replication_workers).`,
          `Read this server's log for "logical replication apply worker" errors; fix what it names (a conflicting row, a missing table, the publisher unreachable, slot ${quoteLiteral(row.slot)} missing there).`,
        ),
      );
    }
    if (applyErrors > 0 || syncErrors > 0) {
      problems.push(
        finding(
          'subscription',
          'error',
          subject,
          `Subscription ${name} counted ${applyErrors} apply errors and ${syncErrors} table-copy errors since its statistics were reset${row.stats?.stats_reset ? ` (${String(row.stats.stats_reset)})` : ''}: an apply worker that fails on a change retries it forever and applies nothing after it.`,
          `Find the failing change in this server's log (a duplicate key: delete or change the row here; a two-way pair must not write the same key on both sides), or skip it with ALTER SUBSCRIPTION ${name} SKIP (lsn = '...') (the LSN is in the log). Once fixed, clear the count: ${reset}`,
        ),
      );
    }
    const conflicts = Object.entries(CONFLICTS).filter(([key]) => count(row.stats, key) > 0);
    if (conflicts.length > 0) {
      const originNote = commitTimestamps?.on
        ? ''
        : ' Origin conflicts are counted only with track_commit_timestamp = on (off here).';
      problems.push(
        finding(
          'subscription',
          'warning',
          subject,
          `Subscription ${name} met conflicts: ${conflicts.map(([key, meaning]) => `${count(row.stats, key)} ${meaning}`).join('; ')}.${originNote}`,
          `Compare the tables on both sides (npx pg-sync-link verify) and repair the rows; then clear the counts: ${reset}`,
        ),
      );
    }
    if (row.not_ready && row.not_ready.length > 0) {
      problems.push(
        finding(
          'subscription',
          'warning',
          subject,
          `Subscription ${name} has tables that are not ready (state i: waiting, d: copying, f/s: catching up): ${row.not_ready.join(', ')}. Until ready, a table does not receive every change.`,
          `Wait for the initial copy; if a table stays, read this server's log for "table synchronization worker" errors.`,
        ),
      );
    }
    if (problems.length === 0) {
      const counters = since15 ? ', no apply errors or conflicts counted' : '';
      findings.push(
        finding(
          'subscription',
          'ok',
          subject,
          `Subscription ${name} is enabled, its apply worker runs, every table is ready${counters}.`,
        ),
      );
    }
    findings.push(...problems);
  }
  return findings;
}

interface SlotRow {
  name: string;
  active: boolean;
  retained: string | null;
  wal_status: string | null;
}

const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/**
 * The logical replication slots of this database: a slot no subscriber reads keeps WAL on this
 * server, without limit unless max_slot_wal_keep_size is set; a slot past that limit is lost.
 */
export async function slotFindings(query: Query): Promise<Finding[]> {
  const slots = await query<SlotRow>(
    `SELECT slot_name::text AS name, active, wal_status,
       pg_catalog.pg_wal_lsn_diff(CASE WHEN pg_catalog.pg_is_in_recovery() THEN pg_catalog.pg_last_wal_receive_lsn() ELSE pg_catalog.pg_current_wal_lsn() END, restart_lsn)::text AS retained
     FROM pg_catalog.pg_replication_slots WHERE slot_type = 'logical' AND database = pg_catalog.current_database() ORDER BY 1`,
  );
  if (slots.length === 0) return [];
  const [limit] = await query<{ setting: string }>(
    `SELECT pg_catalog.current_setting('max_slot_wal_keep_size') AS setting`,
  );
  const unlimited = limit?.setting === '-1';
  const limitText = unlimited
    ? 'max_slot_wal_keep_size = -1: no limit, until the disk is full'
    : `max_slot_wal_keep_size = ${limit?.setting}`;
  return slots.map((slot) => {
    const subject = `replication slot ${quoteLiteral(slot.name)}`;
    const retained = slot.retained === null ? 0 : Number(slot.retained);
    const drop = `SELECT pg_catalog.pg_drop_replication_slot(${quoteLiteral(slot.name)});`;
    if (slot.wal_status === 'lost') {
      return finding(
        'replication-slot',
        'error',
        subject,
        `Slot ${quoteLiteral(slot.name)} is lost: the WAL its subscriber needs was removed (${limitText}); that subscriber can never catch up.`,
        `Remove the subscription on the subscriber (its down, or DISABLE; SET (slot_name = NONE); DROP), then ${drop} here, and subscribe again with copyData.`,
      );
    }
    if (!slot.active) {
      return finding(
        'replication-slot',
        'warning',
        subject,
        `Slot ${quoteLiteral(slot.name)} is not being read by any subscriber and keeps ${megabytes(retained)} of WAL on this server (${limitText}).`,
        `If its subscriber is only down, start it (see the doctor on that server). If it is gone for good: ${drop}${unlimited ? ' Consider setting max_slot_wal_keep_size to bound what a slot can keep.' : ''}`,
      );
    }
    return finding(
      'replication-slot',
      slot.wal_status === 'unreserved' ? 'warning' : 'ok',
      subject,
      `Slot ${quoteLiteral(slot.name)} is read by a subscriber; it keeps ${megabytes(retained)} of WAL (${limitText})${slot.wal_status === 'unreserved' ? ', and is about to lose WAL its subscriber needs' : ''}.`,
      slot.wal_status === 'unreserved'
        ? 'Find why the subscriber lags (the doctor on that server), or raise max_slot_wal_keep_size.'
        : undefined,
    );
  });
}

import { dollarQuoted, ident, integer, join, literal, qualified, sql, type Fragment } from '../../../sql/index.js';
import { outboxObjects, senderObjects } from '../sync-names.js';
import { destinationLabel, displayName, keyColumnsOf, valueOf } from './sync-sender-sql.js';
import { drainLockKeys, entriesOf, outboxKeys, removeEntries, sameKey, unnested } from './sync-outbox-entries.js';
import type { OutboxSyncNode as SyncTriggerNode } from '../sync-trigger-node.js';
import { andMatching, matchingRows } from '../sync-filter.js';

/** Deliveries of a rejected key before the drain sets it aside, unless the caller says otherwise. */
export const DEFAULT_MAX_ATTEMPTS = 5;

/**
 * SQLSTATEs that mean "this row is refused" (rather than "the other side is unreachable"):
 * data exceptions (22), integrity constraints (23), WITH CHECK OPTION (44) and errors raised by a
 * trigger (P0). Only these count as attempts; anything else fails the batch and is retried whole.
 */
const REJECTED = sql`(left(failure_state, 2) IN ('22', '23', '44', 'P0'))`;

/** The failure message of a drain, naming the sync: `format(...)` over SQLERRM and the detail. */
function failureMessage(node: SyncTriggerNode): Fragment {
  const what = literal(`${displayName(node.table)} to ${destinationLabel(node.remote, node.server)}`);
  return sql`pg_catalog.format('pg-sync-link: could not deliver the outbox of %s: %s', ${what}, SQLERRM)
      || COALESCE(' (' || NULLIF(failure_detail, '') || ')', '')`;
}

/**
 * The drain, in three steps: fetch the oldest `max_changes` recorded keys (entries) but those of
 * set-aside keys; apply them to the other side as their rows are now (deletes first); then
 * acknowledge, i.e. remove exactly those entries from the outbox, in the transaction that
 * applied them. When the other side refuses a row, the batch's entries become rows of one key
 * each and are delivered key by key, so the others go on; a key refused in `max_attempts`
 * drains is moved to the failed table. Keys in the failed table are held: their later changes
 * stay in the outbox until the key is retried or discarded, so nothing overtakes.
 */
export function renderDrain(node: SyncTriggerNode): Fragment {
  const sender = senderObjects(node.table, node.server);
  const objects = outboxObjects(node.table, node.server);
  const table = qualified(node.table);
  // A key whose row is gone, or no longer matches the sync's filter, is sent as a delete.
  const sent = matchingRows(node.table, node.where);
  const outbox = qualified(objects.outbox);
  const failed = qualified(objects.failed);
  const status = qualified(objects.status);
  const keyColumns = keyColumnsOf(node);
  const localKeys = outboxKeys(node);
  const keyVariables = (prefix: string) => localKeys.map((_, index) => ident(`${prefix}_${index + 1}`));
  const batchKeys = keyVariables('batch_keys');
  const [lockClass, lockObject] = drainLockKeys(node);
  const remoteKeys = join(keyColumns.map((column) => ident(column.remote)));
  const remoteColumns = join(node.columns.map((column) => ident(column.remote)));
  const notFailed = (entry: string) =>
    sql`NOT EXISTS (SELECT 1 FROM ${failed} AS f WHERE ${sameKey(localKeys, 'f', entry)})`;
  const first = (key: Fragment) => sql`o.${key}[1]`;
  const ofKey = join(
    localKeys.map((key) => sql`${first(key)} = k.${key}`),
    ' AND ',
  );
  const inBatchOfKey = sql`o.pg_sync_seq = ANY (batch) AND ${ofKey}`;
  const batchEntries = sql`${unnested(batchKeys)} AS b(${join(localKeys)})`;
  const ordered = sql`ORDER BY e.pg_sync_seq, e.pg_sync_ord`;

  return sql`CREATE FUNCTION ${qualified(objects.drain)}(max_changes integer DEFAULT 1000, max_attempts integer DEFAULT ${integer(DEFAULT_MAX_ATTEMPTS)}, OUT delivered integer, OUT set_aside integer, OUT error text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS ${dollarQuoted(sql`
DECLARE
  any_held boolean;
  batch_seqs bigint[];
  batch_ords bigint[];
  ${join(
    localKeys.map((key, index) => sql`${batchKeys[index]!} ${outbox}.${key}%TYPE;`),
    '\n  ',
  )}
  batch_recorded_at timestamptz[];
  batch_attempts integer[];
  batch bigint[];
  failure_detail text;
  failure_state text;
  key_error text;
  sent integer;
  k record;
BEGIN
  delivered := 0;
  set_aside := 0;
  IF max_changes IS NULL OR max_changes < 1 THEN
    RAISE EXCEPTION 'pg-sync-link: max_changes must be 1 or more, got %', max_changes;
  END IF;
  IF max_attempts IS NULL OR max_attempts < 1 THEN
    RAISE EXCEPTION 'pg-sync-link: max_attempts must be 1 or more, got %', max_attempts;
  END IF;
  -- One drain at a time: two would race to send different versions of the same row.
  PERFORM pg_catalog.pg_advisory_xact_lock(${lockClass}, ${lockObject});
  -- Fetch. A set-aside key holds its later changes: they wait for a retry or a discard.
  any_held := EXISTS (SELECT 1 FROM ${failed});
  SELECT pg_catalog.array_agg(e.pg_sync_seq ${ordered}), pg_catalog.array_agg(e.pg_sync_ord ${ordered}),
      ${join(
        localKeys.map((key) => sql`pg_catalog.array_agg(e.${key} ${ordered})`),
        ', ',
      )},
      pg_catalog.array_agg(e.pg_sync_recorded_at ${ordered}), pg_catalog.array_agg(e.pg_sync_attempts ${ordered})
    INTO batch_seqs, batch_ords, ${join(batchKeys)}, batch_recorded_at, batch_attempts
    FROM (SELECT r.pg_sync_seq, u.pg_sync_ord, ${join(localKeys.map((key) => sql`u.${key}`))}, r.pg_sync_recorded_at, r.pg_sync_attempts
      FROM (SELECT o.* FROM ${outbox} AS o
              WHERE NOT any_held OR EXISTS (SELECT 1 FROM ${entriesOf('o', 'u', localKeys)} WHERE ${notFailed('u')})
              ORDER BY o.pg_sync_seq LIMIT max_changes) AS r,
        ${entriesOf('r', 'u', localKeys)}
      WHERE NOT any_held OR ${notFailed('u')}
      ORDER BY r.pg_sync_seq, u.pg_sync_ord LIMIT max_changes) AS e;
  IF batch_seqs IS NULL THEN
    RETURN;
  END IF;
  BEGIN
    -- Apply. Keys no longer here were deleted (or moved): delete them there, before the upserts.
    -- One index probe per key (a scalar subquery): an anti-join would read the whole table per batch.
    INSERT INTO ${qualified(sender.deleteTable)} (${remoteKeys})
      SELECT DISTINCT ${join(keyColumns.map(valueOf))} FROM ${unnested(batchKeys)} AS src(${join(localKeys)})
      WHERE (SELECT 1 FROM ${sent} AS t WHERE ${sameKey(localKeys, 't', 'src')} LIMIT 1) IS NULL;
    INSERT INTO ${qualified(sender.upsertTable)} (${remoteColumns})
      SELECT ${join(node.columns.map(valueOf))} FROM ${table} AS src
      WHERE (${join(localKeys.map((key) => sql`src.${key}`))}) IN (SELECT ${join(localKeys.map((key) => sql`b.${key}`))} FROM ${batchEntries})${andMatching(node.where)};
    -- Acknowledge exactly the entries sent: a change recorded meanwhile stays for the next batch.
    ${join(removeEntries(outbox, localKeys, sql`batch_seqs`, sql`batch_ords`), ';\n    ')};
    delivered := pg_catalog.cardinality(batch_seqs);
  EXCEPTION WHEN OTHERS THEN
    -- Nothing of this batch was sent or removed.
    GET STACKED DIAGNOSTICS failure_detail = PG_EXCEPTION_DETAIL, failure_state = RETURNED_SQLSTATE;
    error := ${failureMessage(node)};
  END;
  IF error IS NOT NULL AND ${REJECTED} THEN
    -- A row was refused: the batch's entries become rows of one key each, at the end of the
    -- outbox, and are delivered key by key (deletes first), so one refused key stalls nothing else.
    error := NULL;
    ${join(removeEntries(outbox, localKeys, sql`batch_seqs`, sql`batch_ords`), ';\n    ')};
    WITH moved AS (
      INSERT INTO ${outbox} (${join(localKeys)}, pg_sync_recorded_at, pg_sync_attempts)
        SELECT ${join(localKeys.map((key) => sql`ARRAY[m.${key}]`))}, m.pg_sync_recorded_at, m.pg_sync_attempts
        FROM ${unnested([...batchKeys, sql`batch_recorded_at`, sql`batch_attempts`])} WITH ORDINALITY
          AS m(${join(localKeys)}, pg_sync_recorded_at, pg_sync_attempts, pg_sync_ord)
        ORDER BY m.pg_sync_ord
        RETURNING pg_sync_seq)
    SELECT pg_catalog.array_agg(moved.pg_sync_seq) INTO batch FROM moved;
    FOR k IN SELECT ${join(localKeys.map((key) => sql`${first(key)} AS ${key}`))}, pg_catalog.bool_and(NOT EXISTS (SELECT 1 FROM ${sent} AS t WHERE ${join(
      localKeys.map((key) => sql`t.${key} = ${first(key)}`),
      ' AND ',
    )})) AS pg_sync_gone
      FROM ${outbox} AS o WHERE o.pg_sync_seq = ANY (batch) GROUP BY ${join(localKeys.map(first))} ORDER BY pg_sync_gone DESC, pg_catalog.min(o.pg_sync_seq)
    LOOP
      BEGIN
        IF k.pg_sync_gone THEN
          INSERT INTO ${qualified(sender.deleteTable)} (${remoteKeys})
            SELECT ${join(keyColumns.map(valueOf))} FROM (SELECT ${join(localKeys.map((key) => sql`k.${key} AS ${key}`))}) AS src;
        ELSE
          INSERT INTO ${qualified(sender.upsertTable)} (${remoteColumns})
            SELECT ${join(node.columns.map(valueOf))} FROM ${table} AS src WHERE ${join(
              localKeys.map((key) => sql`src.${key} = k.${key}`),
              ' AND ',
            )}${andMatching(node.where)};
        END IF;
        DELETE FROM ${outbox} AS o WHERE ${inBatchOfKey};
        GET DIAGNOSTICS sent = ROW_COUNT;
        delivered := delivered + sent;
      EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS failure_detail = PG_EXCEPTION_DETAIL, failure_state = RETURNED_SQLSTATE;
        key_error := ${failureMessage(node)};
        IF NOT ${REJECTED} THEN
          -- Not this row: the other side itself fails. The rest waits for the next drain.
          error := key_error;
          EXIT;
        END IF;
        UPDATE ${outbox} AS o SET pg_sync_attempts = o.pg_sync_attempts + 1 WHERE ${inBatchOfKey};
        IF (SELECT pg_catalog.max(o.pg_sync_attempts) FROM ${outbox} AS o WHERE ${inBatchOfKey}) >= max_attempts THEN
          INSERT INTO ${failed} (${join(localKeys)}, pg_sync_attempts, pg_sync_error, pg_sync_first_recorded_at)
            SELECT ${join(localKeys.map((key) => sql`k.${key}`))}, pg_catalog.max(o.pg_sync_attempts), key_error, pg_catalog.min(o.pg_sync_recorded_at)
            FROM ${outbox} AS o WHERE ${inBatchOfKey};
          DELETE FROM ${outbox} AS o WHERE ${inBatchOfKey};
          set_aside := set_aside + 1;
          RAISE WARNING '%', key_error
            USING DETAIL = pg_catalog.format('Set aside after %s attempts in %s; later changes to this key are held.', max_attempts, ${literal(displayName(objects.failed))}),
                  HINT = pg_catalog.format('Fix the cause, then SELECT %s(); or drop it with SELECT %s().', ${literal(displayName(objects.retry))}, ${literal(displayName(objects.discard))});
        ELSE
          -- Tried again by the next drain; meanwhile the failure is current.
          error := COALESCE(error, key_error);
        END IF;
      END;
    END LOOP;
  END IF;
  IF error IS NULL THEN
    UPDATE ${status} SET last_delivered_at = CASE WHEN delivered > 0 THEN pg_catalog.now() ELSE last_delivered_at END,
      delivered_total = delivered_total + delivered, consecutive_failures = 0;
  ELSE
    UPDATE ${status} SET last_delivered_at = CASE WHEN delivered > 0 THEN pg_catalog.now() ELSE last_delivered_at END,
      delivered_total = delivered_total + delivered, last_error = error, last_error_at = pg_catalog.now(), consecutive_failures = consecutive_failures + 1;
  END IF;
END
`)}`;
}

import { createHash } from 'node:crypto';
import { dollarQuoted, ident, integer, join, literal, qualified, sql, type Fragment } from '../../../sql/index.js';
import { outboxObjects, senderObjects } from '../sync-names.js';
import { destinationLabel, displayName, keyColumnsOf, valueOf } from './sync-sender-sql.js';
import type { OutboxSyncNode as SyncTriggerNode } from '../sync-trigger-node.js';

/** Deliveries of a rejected key before the drain sets it aside, unless the caller says otherwise. */
export const DEFAULT_MAX_ATTEMPTS = 5;

/**
 * SQLSTATEs that mean "this row is refused" (rather than "the other side is unreachable"):
 * data exceptions (22), integrity constraints (23), WITH CHECK OPTION (44) and errors raised by a
 * trigger (P0). Only these count as attempts; anything else fails the batch and is retried whole.
 */
const REJECTED = sql`(left(failure_state, 2) IN ('22', '23', '44', 'P0'))`;

/** Two int4 keys for pg_advisory_xact_lock, fixed per outbox, so one drain runs at a time. */
function drainLockKeys(node: SyncTriggerNode): [Fragment, Fragment] {
  const digest = createHash('sha256')
    .update(JSON.stringify(['pg-sync-link drain', node.table.schema, node.table.name, node.server]))
    .digest();
  return [integer(digest.readInt32BE(0)), integer(digest.readInt32BE(4))];
}

/** The failure message of a drain, naming the sync: `format(...)` over SQLERRM and the detail. */
function failureMessage(node: SyncTriggerNode): Fragment {
  const what = literal(`${displayName(node.table)} to ${destinationLabel(node.remote, node.server)}`);
  return sql`pg_catalog.format('pg-sync-link: could not deliver the outbox of %s: %s', ${what}, SQLERRM)
      || COALESCE(' (' || NULLIF(failure_detail, '') || ')', '')`;
}

/**
 * The drain: delivers the oldest batch of recorded keys as their rows are now. When the other
 * side refuses a row, the batch is delivered key by key so the others go on; a key refused in
 * `max_attempts` drains is moved to the failed table. Keys in the failed table are held: their
 * later changes stay in the outbox until the key is retried or discarded, so nothing overtakes.
 */
export function renderDrain(node: SyncTriggerNode): Fragment {
  const sender = senderObjects(node.table, node.server);
  const objects = outboxObjects(node.table, node.server);
  const table = qualified(node.table);
  const outbox = qualified(objects.outbox);
  const failed = qualified(objects.failed);
  const status = qualified(objects.status);
  const keyColumns = keyColumnsOf(node);
  const localKeys = keyColumns.map((column) => ident((column.source as { column: string }).column));
  const localKeyList = join(localKeys);
  const sameKey = (left: string, right: string) =>
    join(
      localKeys.map((key) => sql`${ident(left)}.${key} = ${ident(right)}.${key}`),
      ' AND ',
    );
  const notHeld = sql`NOT EXISTS (SELECT 1 FROM ${failed} AS f WHERE ${sameKey('f', 'o')})`;
  const [lockClass, lockObject] = drainLockKeys(node);
  const remoteKeys = join(keyColumns.map((column) => ident(column.remote)));
  const remoteColumns = join(node.columns.map((column) => ident(column.remote)));
  const sendDeletes = (where: Fragment) => sql`INSERT INTO ${qualified(sender.deleteTable)} (${remoteKeys})
      SELECT DISTINCT ${join(keyColumns.map(valueOf))} FROM ${outbox} AS src
      WHERE ${where} AND NOT EXISTS (SELECT 1 FROM ${table} AS t WHERE ${sameKey('t', 'src')})`;
  const ofKey = sql`${join(
    localKeys.map((key) => sql`o.${key} = k.${key}`),
    ' AND ',
  )}`;
  const inBatchOfKey = sql`o.pg_sync_seq = ANY (batch) AND ${ofKey}`;

  return sql`CREATE FUNCTION ${qualified(objects.drain)}(max_changes integer DEFAULT 1000, max_attempts integer DEFAULT ${integer(DEFAULT_MAX_ATTEMPTS)}, OUT delivered integer, OUT set_aside integer, OUT error text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS ${dollarQuoted(sql`
DECLARE
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
  -- A set-aside key holds its later changes: they wait for a retry or a discard.
  SELECT pg_catalog.array_agg(b.pg_sync_seq) INTO batch
    FROM (SELECT o.pg_sync_seq FROM ${outbox} AS o WHERE ${notHeld} ORDER BY o.pg_sync_seq LIMIT max_changes) AS b;
  IF batch IS NULL THEN
    RETURN;
  END IF;
  BEGIN
    -- Keys no longer here were deleted (or moved): delete them there, before the upserts.
    ${sendDeletes(sql`src.pg_sync_seq = ANY (batch)`)};
    INSERT INTO ${qualified(sender.upsertTable)} (${remoteColumns})
      SELECT ${join(node.columns.map(valueOf))} FROM ${table} AS src
      WHERE (${join(localKeys.map((key) => sql`src.${key}`))}) IN (SELECT ${localKeyList} FROM ${outbox} WHERE pg_sync_seq = ANY (batch));
    -- Exactly the recorded changes sent: a change recorded meanwhile stays for the next batch.
    DELETE FROM ${outbox} WHERE pg_sync_seq = ANY (batch);
    delivered := pg_catalog.cardinality(batch);
  EXCEPTION WHEN OTHERS THEN
    -- Nothing of this batch was sent or removed.
    GET STACKED DIAGNOSTICS failure_detail = PG_EXCEPTION_DETAIL, failure_state = RETURNED_SQLSTATE;
    error := ${failureMessage(node)};
  END;
  IF error IS NOT NULL AND ${REJECTED} THEN
    -- A row was refused: deliver key by key (deletes first), so one refused key stalls nothing else.
    error := NULL;
    FOR k IN SELECT ${join(localKeys.map((key) => sql`o.${key}`))}, pg_catalog.bool_and(NOT EXISTS (SELECT 1 FROM ${table} AS t WHERE ${sameKey('t', 'o')})) AS pg_sync_gone
      FROM ${outbox} AS o WHERE o.pg_sync_seq = ANY (batch) GROUP BY ${join(localKeys.map((key) => sql`o.${key}`))} ORDER BY pg_sync_gone DESC, pg_catalog.min(o.pg_sync_seq)
    LOOP
      BEGIN
        IF k.pg_sync_gone THEN
          INSERT INTO ${qualified(sender.deleteTable)} (${remoteKeys})
            SELECT ${join(keyColumns.map(valueOf))} FROM ${outbox} AS src WHERE src.pg_sync_seq = (SELECT pg_catalog.min(o.pg_sync_seq) FROM ${outbox} AS o WHERE ${inBatchOfKey});
        ELSE
          INSERT INTO ${qualified(sender.upsertTable)} (${remoteColumns})
            SELECT ${join(node.columns.map(valueOf))} FROM ${table} AS src WHERE ${join(
              localKeys.map((key) => sql`src.${key} = k.${key}`),
              ' AND ',
            )};
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
          INSERT INTO ${failed} (${localKeyList}, pg_sync_attempts, pg_sync_error, pg_sync_first_recorded_at)
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

/** The failed table, and the functions that retry or discard what it holds. */
export function renderFailedKeys(node: SyncTriggerNode): { up: Fragment[]; down: Fragment[] } {
  const objects = outboxObjects(node.table, node.server);
  const outbox = qualified(objects.outbox);
  const failed = qualified(objects.failed);
  const keyColumns = keyColumnsOf(node);
  const localKeys = keyColumns.map((column) => ident((column.source as { column: string }).column));
  const localKeyList = join(localKeys);
  const matching = sql`(only_keys IS NULL OR pg_catalog.to_jsonb(f) @> only_keys)`;
  const sameKey = join(
    localKeys.map((key) => sql`o.${key} = f.${key}`),
    ' AND ',
  );
  return {
    up: [
      sql`CREATE TABLE ${failed} AS SELECT ${localKeyList} FROM ${qualified(node.table)} WITH NO DATA`,
      sql`ALTER TABLE ${failed}
  ADD COLUMN pg_sync_attempts integer NOT NULL,
  ADD COLUMN pg_sync_error text NOT NULL,
  ADD COLUMN pg_sync_first_recorded_at timestamptz NOT NULL,
  ADD COLUMN pg_sync_set_aside_at timestamptz NOT NULL DEFAULT pg_catalog.now()`,
      // Back into the outbox: the next drain sends the row as it is then, with any held changes.
      sql`CREATE FUNCTION ${qualified(objects.retry)}(only_keys jsonb DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS ${dollarQuoted(sql`
DECLARE
  moved integer;
BEGIN
  WITH taken AS (DELETE FROM ${failed} AS f WHERE ${matching} RETURNING ${join(localKeys.map((key) => sql`f.${key}`))})
  INSERT INTO ${outbox} (${localKeyList}) SELECT ${localKeyList} FROM taken;
  GET DIAGNOSTICS moved = ROW_COUNT;
  IF moved > 0 THEN
    PERFORM pg_catalog.pg_notify(${literal(objects.channel)}, '');
  END IF;
  RETURN moved;
END
`)}`,
      // Never delivered: the other side keeps its version of these rows until they change again.
      sql`CREATE FUNCTION ${qualified(objects.discard)}(only_keys jsonb DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS ${dollarQuoted(sql`
DECLARE
  dropped integer;
  held integer;
BEGIN
  DELETE FROM ${outbox} AS o USING ${failed} AS f WHERE ${matching} AND ${sameKey};
  GET DIAGNOSTICS held = ROW_COUNT;
  DELETE FROM ${failed} AS f WHERE ${matching};
  GET DIAGNOSTICS dropped = ROW_COUNT;
  IF dropped > 0 THEN
    RAISE NOTICE 'pg-sync-link: discarded % set-aside keys and % held changes of %; the other side keeps its version of those rows', dropped, held, ${literal(displayName(node.table))};
  END IF;
  RETURN dropped;
END
`)}`,
    ],
    down: [
      sql`DROP FUNCTION ${qualified(objects.discard)}(jsonb)`,
      sql`DROP FUNCTION ${qualified(objects.retry)}(jsonb)`,
      sql`DROP TABLE ${failed}`,
    ],
  };
}

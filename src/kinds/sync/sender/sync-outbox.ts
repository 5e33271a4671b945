import { createHash } from 'node:crypto';
import { dollarQuoted, ident, integer, join, literal, qualified, sql, type Fragment } from '../../../sql/index.js';
import { outboxObjects, senderObjects } from '../sync-names.js';
import { displayName, ignoreGuard, keyColumnsOf, triggerList, valueOf } from './sync-sender-sql.js';
import type { SyncTriggerNode } from '../sync-trigger.js';

/** Two int4 keys for pg_advisory_xact_lock, fixed per outbox, so one drain runs at a time. */
function drainLockKeys(node: SyncTriggerNode): [Fragment, Fragment] {
  const digest = createHash('sha256').update(JSON.stringify(['pg-sync-link drain', node.table.schema, node.table.name, node.server])).digest();
  return [integer(digest.readInt32BE(0)), integer(digest.readInt32BE(4))];
}

/**
 * Outbox delivery: the local write never waits for the other side. Statement triggers record
 * the changed keys in an outbox table, in the writer's transaction, and NOTIFY a channel; a
 * drain sends each batch of keys as the rows are now (deleted keys as deletes), through the
 * same endpoint a write-through sync uses. Sending the current row makes a drain idempotent
 * and keeps per-key order by construction: the last state of a key always arrives last.
 */
export function renderOutbox(node: SyncTriggerNode): { up: Fragment[]; down: Fragment[] } {
  const sender = senderObjects(node.table, node.server);
  const objects = outboxObjects(node.table, node.server);
  const table = qualified(node.table);
  const outbox = qualified(objects.outbox);
  const status = qualified(objects.status);
  const keyColumns = keyColumnsOf(node);
  // Outbox delivery needs plain key columns (checked when the spec is built).
  const localKeys = keyColumns.map((column) => ident((column.source as { column: string }).column));
  const localKeyList = join(localKeys);
  const sameKey = join(localKeys.map((key) => sql`t.${key} = src.${key}`), ' AND ');
  const [lockClass, lockObject] = drainLockKeys(node);
  const what = literal(`${displayName(node.table)} to ${node.remote.schema}.${node.remote.name} on server ${node.server}`);

  const createOutbox = [
    // The key columns with the table's own types, then the outbox's order and age.
    sql`CREATE TABLE ${outbox} AS SELECT ${localKeyList} FROM ${table} WITH NO DATA`,
    sql`ALTER TABLE ${outbox}
  ADD COLUMN pg_sync_seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  ADD COLUMN pg_sync_recorded_at timestamptz NOT NULL DEFAULT pg_catalog.now()`,
    sql`CREATE TABLE ${status} (
  last_delivered_at timestamptz,
  delivered_total bigint NOT NULL DEFAULT 0,
  last_error text,
  last_error_at timestamptz,
  consecutive_failures integer NOT NULL DEFAULT 0
)`,
    sql`INSERT INTO ${status} DEFAULT VALUES`,
    sql`CREATE VIEW ${qualified(objects.lag)} AS
SELECT (SELECT pg_catalog.count(*) FROM ${outbox}) AS pending,
       (SELECT pg_catalog.now() - pg_catalog.min(o.pg_sync_recorded_at) FROM ${outbox} AS o) AS oldest_pending_age,
       s.last_delivered_at, s.delivered_total, s.last_error, s.last_error_at, s.consecutive_failures,
       ${literal(objects.channel)}::text AS channel
FROM ${status} AS s`,
  ];

  const record = sql`CREATE FUNCTION ${qualified(sender.function)}() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS ${dollarQuoted(sql`
BEGIN${ignoreGuard(node.ignoreWritesBy)}
  CASE TG_ARGV[0]
    WHEN 'new' THEN
      INSERT INTO ${outbox} (${localKeyList}) SELECT ${localKeyList} FROM pg_sync_new;
    WHEN 'old' THEN
      INSERT INTO ${outbox} (${localKeyList}) SELECT ${localKeyList} FROM pg_sync_old;
    WHEN 'both' THEN
      -- New keys, and old keys an update moved away from (they are deletes there).
      INSERT INTO ${outbox} (${localKeyList})
        SELECT ${localKeyList} FROM pg_sync_new UNION SELECT ${localKeyList} FROM pg_sync_old;
  END CASE;
  IF FOUND THEN
    -- Delivered at commit, and only then: a drain never wakes for a rolled-back change.
    PERFORM pg_catalog.pg_notify(${literal(objects.channel)}, '');
  END IF;
  RETURN NULL;
END
`)}`;

  const drain = sql`CREATE FUNCTION ${qualified(objects.drain)}(max_changes integer DEFAULT 1000, OUT delivered integer, OUT error text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS ${dollarQuoted(sql`
DECLARE
  batch bigint[];
  failure_detail text;
BEGIN
  delivered := 0;
  IF max_changes IS NULL OR max_changes < 1 THEN
    RAISE EXCEPTION 'pg-sync-link: max_changes must be 1 or more, got %', max_changes;
  END IF;
  -- One drain at a time: two would race to send different versions of the same row.
  PERFORM pg_catalog.pg_advisory_xact_lock(${lockClass}, ${lockObject});
  SELECT pg_catalog.array_agg(o.pg_sync_seq) INTO batch
    FROM (SELECT pg_sync_seq FROM ${outbox} ORDER BY pg_sync_seq LIMIT max_changes) AS o;
  IF batch IS NULL THEN
    RETURN;
  END IF;
  BEGIN
    -- Keys no longer here were deleted (or moved): delete them there, before the upserts.
    INSERT INTO ${qualified(sender.deleteTable)} (${join(keyColumns.map((column) => ident(column.remote)))})
      SELECT DISTINCT ${join(keyColumns.map(valueOf))} FROM ${outbox} AS src
      WHERE src.pg_sync_seq = ANY (batch) AND NOT EXISTS (SELECT 1 FROM ${table} AS t WHERE ${sameKey});
    INSERT INTO ${qualified(sender.upsertTable)} (${join(node.columns.map((column) => ident(column.remote)))})
      SELECT ${join(node.columns.map(valueOf))} FROM ${table} AS src
      WHERE (${join(localKeys.map((key) => sql`src.${key}`))}) IN (SELECT ${localKeyList} FROM ${outbox} WHERE pg_sync_seq = ANY (batch));
    -- Exactly the recorded changes sent: a change recorded meanwhile stays for the next batch.
    DELETE FROM ${outbox} WHERE pg_sync_seq = ANY (batch);
    delivered := pg_catalog.cardinality(batch);
    UPDATE ${status} SET last_delivered_at = pg_catalog.now(), delivered_total = delivered_total + delivered, consecutive_failures = 0;
  EXCEPTION WHEN OTHERS THEN
    -- Nothing of this batch was sent or removed; it is tried again by the next drain.
    GET STACKED DIAGNOSTICS failure_detail = PG_EXCEPTION_DETAIL;
    error := pg_catalog.format('pg-sync-link: could not deliver the outbox of %s: %s', ${what}, SQLERRM)
      || COALESCE(' (' || NULLIF(failure_detail, '') || ')', '');
    UPDATE ${status} SET last_error = error, last_error_at = pg_catalog.now(), consecutive_failures = consecutive_failures + 1;
  END;
END
`)}`;

  const call = (mode: string) => sql`EXECUTE FUNCTION ${qualified(sender.function)}(${literal(mode)})`;
  const triggers = triggerList(node);
  if (node.operations.includes('insert')) {
    triggers.add('insert', sql`AFTER INSERT ON ${table} REFERENCING NEW TABLE AS pg_sync_new FOR EACH STATEMENT ${call('new')}`);
  }
  if (node.operations.includes('update')) {
    triggers.add('update', sql`AFTER UPDATE ON ${table} REFERENCING OLD TABLE AS pg_sync_old NEW TABLE AS pg_sync_new FOR EACH STATEMENT ${call('both')}`);
  }
  if (node.operations.includes('delete')) {
    triggers.add('delete', sql`AFTER DELETE ON ${table} REFERENCING OLD TABLE AS pg_sync_old FOR EACH STATEMENT ${call('old')}`);
  }
  return {
    up: [...createOutbox, record, drain, ...triggers.up],
    down: [
      // Pending changes would be lost with the outbox: deliver (or discard) them first.
      sql`DO ${dollarQuoted(sql`
DECLARE
  pending bigint := (SELECT pg_catalog.count(*) FROM ${outbox});
BEGIN
  IF pending > 0 THEN
    RAISE EXCEPTION USING ERRCODE = 'object_in_use',
      MESSAGE = pg_catalog.format('pg-sync-link: the outbox of %s still holds %s undelivered changes', ${what}, pending),
      HINT = pg_catalog.format('Deliver them with SELECT * FROM %s(), or discard them with DELETE FROM %s, then run this again.', ${literal(displayName(objects.drain))}, ${literal(displayName(objects.outbox))});
  END IF;
END
`)}`,
      ...triggers.down,
      sql`DROP FUNCTION ${qualified(objects.drain)}(integer)`,
      sql`DROP FUNCTION ${qualified(sender.function)}()`,
      sql`DROP VIEW ${qualified(objects.lag)}`,
      sql`DROP TABLE ${status}`,
      sql`DROP TABLE ${outbox}`,
    ],
  };
}

import {
  dollarQuoted,
  expression,
  formatted,
  ident,
  integer,
  join,
  literal,
  qualified,
  raiseException,
  sql,
  type Fragment,
} from '../../../sql/index.js';
import { outboxObjects, senderObjects } from '../sync-names.js';
import { renderDrain } from './sync-outbox-drain.js';
import { OUTBOX_CHUNK, entriesOf, outboxKeys } from './sync-outbox-entries.js';
import { renderFailedKeys } from './sync-outbox-failed.js';
import { renderConflicts } from './sync-outbox-conflicts.js';
import {
  destinationLabel,
  displayName,
  ignoreGuard,
  refuseTruncateOf,
  requiredLocalKey,
  triggerList,
} from './sync-sender-sql.js';
import type { OutboxSyncNode } from '../sync-trigger-node.js';

/**
 * Outbox delivery: the local write never waits for the other side. Statement triggers record
 * the changed keys in an outbox table, in the writer's transaction, as arrays (one row per
 * statement and OUTBOX_CHUNK keys, not one per changed row), and NOTIFY a channel; a
 * drain sends each batch of keys as the rows are now (deleted keys as deletes), through the
 * same endpoint a write-through sync uses. Sending the current row makes a drain idempotent
 * and keeps per-key order by construction: the last state of a key always arrives last. A key
 * the other side keeps refusing is set aside (see renderDrain), and its later changes are held.
 */
export function renderOutbox(node: OutboxSyncNode): { up: Fragment[]; down: Fragment[] } {
  const sender = senderObjects(node.table, node.server);
  const objects = outboxObjects(node.table, node.server);
  const table = qualified(node.table);
  const outbox = qualified(objects.outbox);
  const status = qualified(objects.status);
  requiredLocalKey(node, "delivery 'outbox'");
  const localKeys = outboxKeys(node);
  const localKeyList = join(localKeys);
  const keyArrays = localKeys.map((_, index) => ident(`pg_sync_keys_${index + 1}`));
  const what = literal(`${displayName(node.table)} to ${destinationLabel(node.remote, node.server)}`);

  const createOutbox = [
    // Arrays of the key columns with the table's own types, then the outbox's order and age.
    sql`CREATE TABLE ${outbox} AS SELECT ${join(localKeys.map((key) => sql`ARRAY[${key}] AS ${key}`))} FROM ${table} WITH NO DATA`,
    // The key arrays are stored as they are: compressing a statement's 1,000 keys (pglz) cost
    // a bulk insert more than the rest of its recording, and every read would decompress them.
    sql`ALTER TABLE ${outbox}
  ${join(
    localKeys.map((key) => sql`ALTER COLUMN ${key} SET STORAGE EXTERNAL`),
    ',\n  ',
  )},
  ADD COLUMN pg_sync_seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  ADD COLUMN pg_sync_recorded_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
  ADD COLUMN pg_sync_attempts integer NOT NULL DEFAULT 0`,
    sql`CREATE TABLE ${status} (
  last_delivered_at timestamptz,
  delivered_total bigint NOT NULL DEFAULT 0,
  last_error text,
  last_error_at timestamptz,
  consecutive_failures integer NOT NULL DEFAULT 0
)`,
    sql`INSERT INTO ${status} DEFAULT VALUES`,
  ];

  const failed = qualified(objects.failed);
  const heldKey = join(
    localKeys.map((key) => sql`f.${key} = u.${key}`),
    ' AND ',
  );
  const pending = sql`(SELECT COALESCE(pg_catalog.sum(pg_catalog.cardinality(o.${localKeys[0]!})), 0) FROM ${outbox} AS o)`;
  // current_error is set only while deliveries fail; last_error keeps the last one for the record.
  const lagView = sql`CREATE VIEW ${qualified(objects.lag)} AS
SELECT ${pending}::bigint AS pending,
       (SELECT pg_catalog.now() - pg_catalog.min(o.pg_sync_recorded_at) FROM ${outbox} AS o) AS oldest_pending_age,
       s.last_delivered_at, s.delivered_total, s.last_error, s.last_error_at, s.consecutive_failures,
       ${literal(objects.channel)}::text AS channel,
       CASE WHEN s.consecutive_failures > 0 THEN s.last_error END AS current_error,
       (SELECT pg_catalog.count(*) FROM ${failed}) AS set_aside,
       (SELECT pg_catalog.count(*) FROM ${outbox} AS o, ${entriesOf('o', 'u', localKeys)} WHERE EXISTS (SELECT 1 FROM ${failed} AS f WHERE ${heldKey})) AS held
FROM ${status} AS s`;

  // With a filter, a key is recorded only when its row matches in the version seen: a change of
  // a row that never matched sends nothing; the drain deletes a recorded key that no longer matches.
  const matching = (transition: string) =>
    node.where === undefined
      ? ident(transition)
      : sql`(SELECT * FROM ${ident(transition)} AS src WHERE ${expression(node.where)})`;
  const aggregated = (from: Fragment) =>
    sql`SELECT ${join(localKeys.map((key) => sql`pg_catalog.array_agg(c.${key})`))} INTO ${join(keyArrays)} FROM ${from} AS c`;
  const chunk = (array: Fragment) =>
    sql`${array}[pg_sync_chunk.first : pg_sync_chunk.first + ${integer(OUTBOX_CHUNK - 1)}]`;
  const record = sql`CREATE FUNCTION ${qualified(sender.function)}() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS ${dollarQuoted(sql`
DECLARE
  ${join(
    localKeys.map((key, index) => sql`${keyArrays[index]!} ${outbox}.${key}%TYPE;`),
    '\n  ',
  )}
  pg_sync_count integer;
BEGIN${refuseTruncateOf(node)}${ignoreGuard(node.ignoreWritesBy)}
  CASE TG_ARGV[0]
    WHEN 'new' THEN
      ${aggregated(matching('pg_sync_new'))};
    WHEN 'old' THEN
      ${aggregated(matching('pg_sync_old'))};
    WHEN 'both' THEN
      -- New keys, and old keys an update moved away from (they are deletes there).
      ${aggregated(sql`(SELECT ${localKeyList} FROM ${matching('pg_sync_new')} AS n UNION SELECT ${localKeyList} FROM ${matching('pg_sync_old')} AS o)`)};
  END CASE;
  pg_sync_count := pg_catalog.cardinality(${keyArrays[0]!});
  IF pg_sync_count > 0 THEN
    -- One row per ${integer(OUTBOX_CHUNK)} keys: a drain can take a bounded part of a big statement.
    INSERT INTO ${outbox} (${localKeyList})
      SELECT ${join(keyArrays.map(chunk))}
      FROM pg_catalog.generate_series(1, pg_sync_count, ${integer(OUTBOX_CHUNK)}) AS pg_sync_chunk(first);
    -- Delivered at commit, and only then: a drain never wakes for a rolled-back change.
    PERFORM pg_catalog.pg_notify(${literal(objects.channel)}, '');
  END IF;
  RETURN NULL;
END
`)}`;

  const failedKeys = renderFailedKeys(node);
  const conflicts = renderConflicts(node);

  const call = (mode: string) => sql`EXECUTE FUNCTION ${qualified(sender.function)}(${literal(mode)})`;
  const triggers = triggerList(node);
  if (node.operations.includes('insert')) {
    triggers.add(
      'insert',
      sql`AFTER INSERT ON ${table} REFERENCING NEW TABLE AS pg_sync_new FOR EACH STATEMENT ${call('new')}`,
    );
  }
  if (node.operations.includes('update')) {
    triggers.add(
      'update',
      sql`AFTER UPDATE ON ${table} REFERENCING OLD TABLE AS pg_sync_old NEW TABLE AS pg_sync_new FOR EACH STATEMENT ${call('both')}`,
    );
  }
  if (node.operations.includes('delete')) {
    triggers.add(
      'delete',
      sql`AFTER DELETE ON ${table} REFERENCING OLD TABLE AS pg_sync_old FOR EACH STATEMENT ${call('old')}`,
    );
  }
  return {
    up: [...createOutbox, ...failedKeys.up, lagView, record, renderDrain(node), ...triggers.up, ...conflicts.up],
    down: [
      // Pending changes would be lost with the outbox: deliver (or discard) them first.
      sql`DO ${dollarQuoted(sql`
DECLARE
  pending bigint := (SELECT l.pending FROM ${qualified(objects.lag)} AS l);
  set_aside bigint := (SELECT pg_catalog.count(*) FROM ${failed});
BEGIN
  IF set_aside > 0 THEN
    ${raiseException({
      errcode: 'object_in_use',
      message: formatted('pg-sync-link: the outbox of %s holds %s set-aside keys', what, sql`set_aside`),
      hint: formatted(
        'Retry them with SELECT %s() and deliver, or discard them with SELECT %s(), then run this again.',
        literal(displayName(objects.retry)),
        literal(displayName(objects.discard)),
      ),
    })}
  END IF;
  IF pending > 0 THEN
    ${raiseException({
      errcode: 'object_in_use',
      message: formatted('pg-sync-link: the outbox of %s still holds %s undelivered changes', what, sql`pending`),
      hint: formatted(
        'Deliver them with SELECT * FROM %s(), or discard them with DELETE FROM %s, then run this again.',
        literal(displayName(objects.drain)),
        literal(displayName(objects.outbox)),
      ),
    })}
  END IF;
END
`)}`,
      ...conflicts.down,
      ...triggers.down,
      sql`DROP FUNCTION ${qualified(objects.drain)}(integer, integer)`,
      sql`DROP FUNCTION ${qualified(sender.function)}()`,
      sql`DROP VIEW ${qualified(objects.lag)}`,
      ...failedKeys.down,
      sql`DROP TABLE ${status}`,
      sql`DROP TABLE ${outbox}`,
    ],
  };
}

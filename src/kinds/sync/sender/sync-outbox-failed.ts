import { dollarQuoted, join, literal, qualified, sql, type Fragment } from '../../../sql/index.js';
import { outboxObjects } from '../sync-names.js';
import { displayName } from './sync-sender-sql.js';
import { drainLockKeys, entriesOf, outboxKeys, removeEntries } from './sync-outbox-entries.js';
import type { OutboxSyncNode } from '../sync-trigger-node.js';

/** The failed table, and the functions that retry or discard what it holds. */
export function renderFailedKeys(node: OutboxSyncNode): { up: Fragment[]; down: Fragment[] } {
  const objects = outboxObjects(node.table, node.server);
  const outbox = qualified(objects.outbox);
  const failed = qualified(objects.failed);
  const localKeys = outboxKeys(node);
  const localKeyList = join(localKeys);
  const matching = sql`(only_keys IS NULL OR pg_catalog.to_jsonb(f) @> only_keys)`;
  const heldEntry = join(
    localKeys.map((key) => sql`u.${key} = f.${key}`),
    ' AND ',
  );
  const [lockClass, lockObject] = drainLockKeys(node);
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
  INSERT INTO ${outbox} (${localKeyList}) SELECT ${join(localKeys.map((key) => sql`ARRAY[taken.${key}]`))} FROM taken;
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
  held_seqs bigint[];
  held_ords bigint[];
BEGIN
  -- Entries are named by their position in a row: no drain may move them meanwhile.
  PERFORM pg_catalog.pg_advisory_xact_lock(${lockClass}, ${lockObject});
  SELECT pg_catalog.array_agg(o.pg_sync_seq), pg_catalog.array_agg(u.pg_sync_ord) INTO held_seqs, held_ords
    FROM ${outbox} AS o, ${entriesOf('o', 'u', localKeys)}
    WHERE EXISTS (SELECT 1 FROM ${failed} AS f WHERE ${matching} AND ${heldEntry});
  ${join(removeEntries(outbox, localKeys, sql`held_seqs`, sql`held_ords`), ';\n  ')};
  DELETE FROM ${failed} AS f WHERE ${matching};
  GET DIAGNOSTICS dropped = ROW_COUNT;
  IF dropped > 0 THEN
    RAISE NOTICE 'pg-sync-link: discarded % set-aside keys and % held changes of %; the other side keeps its version of those rows', dropped, COALESCE(pg_catalog.cardinality(held_seqs), 0), ${literal(displayName(node.table))};
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

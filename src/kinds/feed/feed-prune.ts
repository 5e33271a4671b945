import { dollarQuoted, literal, qualified, sql, type Fragment } from '../../sql/index.js';
import { feedObjects, type ChangeFeedNode } from './feed-names.js';
import { displayName } from '../sync/sender/sync-sender-sql.js';

/**
 * The feed's prune function and per-consumer lag view. A named consumer's cursor is the position
 * it got to: a logged change after it, `(xid, seq) > (cursor.xid, cursor.seq)`, is one it has not
 * received. Pruning keeps those unless told `force => true`, and then says, per consumer, how
 * many it drops.
 */
export function renderFeedUpkeep(node: ChangeFeedNode): { up: Fragment[]; down: Fragment[] } {
  const objects = feedObjects(node.table);
  const log = qualified(objects.log);
  const cursors = qualified(objects.cursors);
  const what = literal(displayName(node.table));
  const notReceived = sql`(l.xid, l.seq) > (c.xid, c.seq)`;
  const perConsumer = (where: Fragment) => sql`SELECT c.consumer, pg_catalog.count(*) AS changes
      FROM ${cursors} AS c JOIN ${log} AS l ON ${notReceived} WHERE ${where} GROUP BY c.consumer ORDER BY c.consumer`;
  const old = sql`l.at < pg_catalog.now() - older_than`;
  return {
    up: [
      sql`CREATE FUNCTION ${qualified(objects.prune)}(older_than interval, force boolean DEFAULT false) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS ${dollarQuoted(sql`
DECLARE
  pruned bigint;
  behind record;
BEGIN
  IF older_than IS NULL OR force IS NULL THEN
    RAISE EXCEPTION 'pg-sync-link: prune the change feed of % with an interval, e.g. SELECT %(''7 days'')', ${what}, ${literal(displayName(objects.prune))};
  END IF;
  IF force THEN
    FOR behind IN ${perConsumer(old)} LOOP
      RAISE WARNING 'pg-sync-link: pruning the change feed of % drops % changes that consumer % has not received', ${what}, behind.changes, pg_catalog.quote_literal(behind.consumer)
        USING HINT = 'It will not see them when it resumes; read them from a backup or resynchronise it.';
    END LOOP;
    WITH gone AS (DELETE FROM ${log} AS l WHERE ${old} RETURNING 1) SELECT pg_catalog.count(*) INTO pruned FROM gone;
  ELSE
    WITH gone AS (DELETE FROM ${log} AS l WHERE ${old} AND NOT EXISTS (SELECT 1 FROM ${cursors} AS c WHERE ${notReceived}) RETURNING 1)
      SELECT pg_catalog.count(*) INTO pruned FROM gone;
    FOR behind IN ${perConsumer(old)} LOOP
      RAISE NOTICE 'pg-sync-link: kept % changes of the change feed of % that consumer % has not received', behind.changes, ${what}, pg_catalog.quote_literal(behind.consumer)
        USING HINT = pg_catalog.format('Resume that consumer; or drop its position (DELETE FROM %s WHERE consumer = %L), or prune with force => true.', ${literal(displayName(objects.cursors))}, behind.consumer);
    END LOOP;
  END IF;
  RETURN pruned;
END
`)}`,
      // One row per named consumer: how far behind it is (what pruning keeps for it).
      sql`CREATE VIEW ${qualified(objects.lag)} AS
SELECT c.consumer, c.xid AS position_xid, c.seq AS position_seq, c.updated_at AS checkpointed_at,
       (SELECT pg_catalog.count(*) FROM ${log} AS l WHERE ${notReceived}) AS pending,
       (SELECT pg_catalog.now() - pg_catalog.min(l.at) FROM ${log} AS l WHERE ${notReceived}) AS oldest_pending_age
FROM ${cursors} AS c`,
    ],
    down: [sql`DROP VIEW ${qualified(objects.lag)}`, sql`DROP FUNCTION ${qualified(objects.prune)}(interval, boolean)`],
  };
}

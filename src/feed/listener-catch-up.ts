import { integer, previewSql, sql, type Fragment } from '../sql/index.js';
import type { FeedClient } from './listener-client.js';
import type { FeedPosition } from './position.js';
import type { ChangeEvent } from './listener-types.js';

const PAGE = 1000;

/** What one catch-up read found: how many changes it delivered, and the snapshot's xmin. */
export interface CatchUp {
  /** Changes delivered (not seen before). */
  readonly count: number;
  /** Every transaction below this xid had ended when the log was read. */
  readonly horizon: string;
}

/**
 * The log read a listener does after a (re)connect and every checkpoint: in one snapshot, every
 * change after `from`, in pages, each handed to `deliver` (which returns true when it was new).
 */
export function feedLogReader<Row>(log: Fragment) {
  const select = (where: Fragment) =>
    previewSql(sql`SELECT seq::text, xid::text, op, key, old_key, changed, row FROM ${log} AS entry WHERE ${where}`);
  // ORDER BY entry.seq, not seq: a bare name means the output column, the text `seq::text`,
  // whose order ('10' < '9') would deliver a transaction's changes out of order and page wrongly.
  const catchUpQuery = select(
    sql`(xid, seq) > ($1::xid8, $2::bigint) AND seq > $3::bigint ORDER BY entry.seq LIMIT ${integer(PAGE)}`,
  );
  return async function readSince(
    client: FeedClient,
    from: FeedPosition,
    deliver: (event: ChangeEvent<Row>) => Promise<boolean>,
  ): Promise<CatchUp> {
    let count = 0;
    let horizon: string;
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    try {
      // Transactions older than this snapshot's xmin have all ended: none adds rows below it.
      const { rows } = await client.query(
        'SELECT pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot())::text AS xmin',
      );
      horizon = rows[0]!.xmin as string;
      for (let after = '0'; ; ) {
        const page = await client.query(catchUpQuery, [from.xid, from.seq, after]);
        for (const row of page.rows) {
          // A logged row of the feed's table, of the type the caller named.
          const event = {
            seq: row.seq,
            xid: row.xid,
            op: row.op,
            key: row.key,
            oldKey: row.old_key,
            changed: row.changed,
            row: row.row,
          } as ChangeEvent<Row>;
          if (await deliver(event)) count += 1;
        }
        if (page.rows.length < PAGE) break;
        after = page.rows.at(-1)!.seq as string;
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
    return { count, horizon };
  };
}

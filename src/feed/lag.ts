import { rows } from '../run/rows.js';
import { InvalidOptionError } from '../errors.js';
import { feedObjects, type ChangeFeedNode } from '../kinds/feed/change-feed.js';
import { withSession, type DatabaseTarget } from '../run/session.js';
import { previewSql, qualified, sql } from '../sql/index.js';
import type { FeedPosition } from './position.js';

/** How far behind one named consumer of a change feed is. */
export interface FeedConsumerLag {
  /** The consumer's name, as given to listenToChanges. */
  readonly consumer: string;
  /** The position it last checkpointed. */
  readonly position: FeedPosition;
  /** When it last checkpointed. */
  readonly checkpointedAt: Date;
  /** Logged changes after its position: what it has not received (and what pruning keeps for it). */
  readonly pending: number;
  /** Seconds since the oldest of those was recorded; null when none is pending. */
  readonly oldestPendingSeconds: number | null;
}

/**
 * The feed's named consumers (those that listen with `consumer`), most behind first, read from
 * the `<table>__changes_lag` view. A consumer that no longer runs holds back pruning: drop its
 * position with `DELETE FROM <table>__changes_cursors WHERE consumer = '...'`.
 */
export async function feedLag(target: DatabaseTarget, feed: ChangeFeedNode): Promise<FeedConsumerLag[]> {
  if (typeof feed !== 'object' || feed === null || feed.kind !== 'change-feed') {
    throw new InvalidOptionError('feedLag needs a node made with changeFeed({ table, key }).', 'feed');
  }
  // Ordered by the view's bigint column (lag.pending), not by the text output of the same name.
  const text = previewSql(sql`SELECT consumer, position_xid::text, position_seq::text, checkpointed_at, pending::text,
  extract(epoch FROM oldest_pending_age)::float8 AS age FROM ${qualified(feedObjects(feed.table).lag)} AS lag ORDER BY lag.pending DESC, consumer`);
  return withSession(target, async (session) => {
    const found = await rows<{
      consumer: string;
      position_xid: string;
      position_seq: string;
      checkpointed_at: Date;
      pending: string;
      age: number | null;
    }>(session.execute, text);
    return found.map((row) => ({
      consumer: row.consumer,
      position: { xid: row.position_xid, seq: row.position_seq },
      checkpointedAt: row.checkpointed_at,
      pending: Number(row.pending),
      oldestPendingSeconds: row.age === null ? null : Number(row.age),
    }));
  });
}

import { InvalidOptionError } from '../errors.js';
import { feedObjects } from '../kinds/feed/change-feed.js';
import { wakeableSleep } from '../run/backoff.js';
import { reconnectLoop, retrySettings, type ConnectionInUse } from '../run/reconnect.js';
import { previewSql, qualified, quoteQualifiedName, sql } from '../sql/index.js';
import { feedLogReader } from './listener-catch-up.js';
import { openFeedClient, startingPosition, type FeedClient } from './listener-client.js';
import { feedMetrics } from './metrics.js';
import { isAfter, laterOf, type FeedPosition } from './position.js';
import type { ChangeEvent, ChangeListener, ChangeListenerOptions, ChangeListenerStatus } from './listener-types.js';

export type { ChangeEvent, ChangeListener, ChangeListenerOptions, ChangeListenerStatus } from './listener-types.js';

class HandlerError extends Error {}

/**
 * Listens to a change feed: changes arrive by NOTIFY as they commit; after a (re)connect, and
 * every checkpoint interval, the listener reads the feed's log for what it has not seen, so a
 * disconnect loses nothing. Within one listener each change is delivered once; with a
 * `consumer`, a restart resumes from the kept position and may repeat the changes delivered
 * after the last checkpoint (at least once).
 *
 * @example
 * listenToChanges({ connection: url, feed: usersFeed, consumer: 'crm', onChange: async (change) => crm.apply(change) });
 */
export function listenToChanges<Row = Record<string, unknown>>(options: ChangeListenerOptions<Row>): ChangeListener {
  if (typeof options?.feed !== 'object' || options.feed?.kind !== 'change-feed') {
    throw new InvalidOptionError('listenToChanges needs feed: a node made with changeFeed({ table, key }).', 'feed');
  }
  if (typeof options.onChange !== 'function')
    throw new InvalidOptionError('listenToChanges needs onChange(event).', 'onChange');
  if (options.consumer !== undefined && (typeof options.consumer !== 'string' || options.consumer === '')) {
    throw new InvalidOptionError('consumer must be a non-empty name.', 'consumer');
  }
  const objects = feedObjects(options.feed.table);
  const log = qualified(objects.log);
  const cursors = qualified(objects.cursors);
  const checkpointMs = options.checkpointIntervalMs ?? 5_000;
  const retry = retrySettings(options.retry);
  const emit = (status: ChangeListenerStatus) => options.onStatus?.(status);
  // Every error it reports names the feed (and the consumer).
  const label = `the change feed of ${quoteQualifiedName(options.feed.table)}${options.consumer === undefined ? '' : ` (consumer ${JSON.stringify(options.consumer)})`}`;
  const metrics = feedMetrics(options.metrics, objects.log, {
    feed: quoteQualifiedName(options.feed.table),
    consumer: options.consumer ?? '',
  });
  const sleep = wakeableSleep();
  const queue: string[] = [];
  // Changes delivered after `position`, by seq, with their transaction: skipped if seen again.
  const delivered = new Map<string, string>();
  let position: FeedPosition | undefined;
  let lost = false;

  const readLog = feedLogReader<Row>(log);
  const rowQuery = previewSql(sql`SELECT row FROM ${log} WHERE seq = $1::bigint`);

  async function deliver(
    client: FeedClient,
    received: ChangeEvent<Row> & { rowByReference?: boolean },
  ): Promise<boolean> {
    // A notification's seq is a JSON number, the log's is text: one form for both.
    const event = { ...received, seq: String(received.seq), xid: String(received.xid) };
    if (delivered.has(event.seq) || (position && !isAfter({ xid: event.xid, seq: event.seq }, position))) return false;
    let row = event.row;
    if (event.rowByReference) {
      const { rows } = await client.query(rowQuery, [event.seq]);
      // The row as the feed logged it, of the type the caller named.
      row = rows[0]?.row as Row;
    }
    const change: ChangeEvent<Row> = {
      seq: event.seq,
      xid: event.xid,
      op: event.op,
      key: event.key,
      oldKey: event.oldKey ?? null,
      changed: event.changed ?? null,
      row,
    };
    try {
      await options.onChange(change);
    } catch (error) {
      throw Object.assign(
        new HandlerError(
          `pg-sync-link: ${label}: onChange failed for change ${event.seq} (${event.op} of ${JSON.stringify(event.key)}): ${String(error)}`,
        ),
        { cause: error },
      );
    }
    delivered.set(event.seq, event.xid);
    metrics.received();
    return true;
  }

  /** Reads the log in one snapshot for what NOTIFY did not bring, then moves the position up. */
  async function checkpoint(client: FeedClient): Promise<void> {
    const from = position!;
    const { count, horizon } = await readLog(client, from, (event) => deliver(client, event));
    position = laterOf(from, { xid: horizon, seq: '0' });
    for (const [seq, xid] of delivered) if (!isAfter({ xid, seq }, position)) delivered.delete(seq);
    if (options.consumer !== undefined) {
      await client.query(
        previewSql(sql`INSERT INTO ${cursors} AS c (consumer, xid, seq) VALUES ($1, $2::xid8, $3::bigint)
ON CONFLICT (consumer) DO UPDATE SET xid = EXCLUDED.xid, seq = EXCLUDED.seq, updated_at = pg_catalog.now()`),
        [options.consumer, position.xid, position.seq],
      );
    }
    await metrics.checkpointed(client, position);
    emit({ type: 'caught-up', delivered: count, position });
  }

  function open(): Promise<FeedClient> {
    return openFeedClient(options, {
      created: () => {
        lost = false;
      },
      notified: (payload) => {
        if (payload) queue.push(payload);
        sleep.wake();
      },
      gone: () => {
        lost = true;
        sleep.wake();
      },
    });
  }

  async function use(client: FeedClient, connection: ConnectionInUse): Promise<void> {
    position ??= await startingPosition(client, options, cursors);
    queue.length = 0; // the log read below covers anything queued before it
    emit({ type: 'connected' });
    await checkpoint(client);
    connection.healthy();
    let next = Date.now() + checkpointMs;
    while (!loop.stopping) {
      while (queue.length > 0 && !loop.stopping) await deliver(client, JSON.parse(queue.shift()!));
      if (lost) throw new Error('The connection to the database was lost.');
      if (Date.now() >= next) {
        await checkpoint(client);
        next = Date.now() + checkpointMs;
      }
      if (queue.length === 0) await sleep.wait(Math.max(0, next - Date.now()));
    }
  }

  const loop = reconnectLoop<FeedClient>({
    retry,
    open,
    use,
    close: (client) => client.end(),
    isFatal: (error) => error instanceof HandlerError,
    onRetry: (error, retryInMs) => {
      const text = error instanceof Error ? error.message : String(error);
      emit({
        type: 'disconnected',
        error: text.startsWith('pg-sync-link:') ? text : `pg-sync-link: ${label}: ${text}`,
        retryInMs,
      });
    },
  });

  let metricsFailure: unknown;
  metrics.ready.catch((error: unknown) => {
    metricsFailure = error;
    loop.stop();
    sleep.wake();
  });
  const stopped = loop.done.finally(async () => {
    await metrics.close();
    emit({ type: 'stopped' });
    if (metricsFailure !== undefined) throw metricsFailure;
  });
  // A rejection nobody awaits yet must not crash the process; `stopped` still rejects.
  stopped.catch(() => undefined);
  return {
    stopped,
    metricsUrl: metrics.ready.catch(() => undefined),
    position: () => position,
    async stop() {
      loop.stop();
      sleep.wake();
      await stopped.catch(() => undefined);
    },
  };
}

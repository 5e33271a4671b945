import { newPgClient } from '../run/session.js';
import { ident, previewSql, sql, type Fragment } from '../sql/index.js';
import { checkFeedInstalled } from './installed.js';
import { positionText, type FeedPosition } from './position.js';
import type { ChangeListenerOptions } from './listener-types.js';

// A listener's connection: opening it (LISTEN on the feed's channel) and where it starts reading.

/** The part of a pg Client a listener uses. */
export interface FeedClient {
  connect(): Promise<void>;
  query(text: string, values?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
  on(event: 'notification' | 'error' | 'end', listener: (message?: { payload?: string }) => void): void;
  end(): Promise<void>;
}

/** What a listener hears from its connection while opening it and after. */
export interface FeedClientEvents {
  /** The client exists (before it connects). */
  created(): void;
  /** A NOTIFY arrived, with its payload if any. */
  notified(payload: string | undefined): void;
  /** The connection failed or ended. */
  gone(): void;
}

/** Connects, checks the feed is installed and LISTENs on its channel; ends the client if any step fails. */
export async function openFeedClient<Row>(
  options: ChangeListenerOptions<Row>,
  events: FeedClientEvents,
): Promise<FeedClient> {
  // A pg Client is a FeedClient; pg's overloaded types do not say so to the compiler.
  const client = (await newPgClient(options.connection, 'listenToChanges')) as unknown as FeedClient;
  events.created();
  client.on('notification', (message) => events.notified(message?.payload));
  client.on('error', () => events.gone());
  client.on('end', () => events.gone());
  try {
    await client.connect();
    await checkFeedInstalled(client, options.feed, options.consumer !== undefined);
    // Listen first, then read the log: a change is in the log read, or notified after it.
    await client.query(previewSql(sql`LISTEN ${ident(options.feed.channel)}`));
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  return client;
}

/** Where a listener starts: its consumer's kept position, else `from` (default now). */
export async function startingPosition<Row>(
  client: FeedClient,
  options: ChangeListenerOptions<Row>,
  cursors: Fragment,
): Promise<FeedPosition> {
  if (options.consumer !== undefined) {
    const { rows } = await client.query(
      previewSql(sql`SELECT xid::text, seq::text FROM ${cursors} WHERE consumer = $1`),
      [options.consumer],
    );
    if (rows[0]) return { xid: rows[0].xid as string, seq: rows[0].seq as string };
  }
  const from = options.from ?? 'now';
  if (from === 'beginning') return { xid: '0', seq: '0' };
  if (from === 'now') {
    const { rows } = await client.query(
      'SELECT pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot())::text AS xmin',
    );
    return { xid: rows[0]!.xmin as string, seq: '0' };
  }
  return positionText(from);
}

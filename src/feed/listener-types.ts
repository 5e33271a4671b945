import type { ChangeFeedNode } from '../kinds/feed/change-feed.js';
import type { RetryOptions } from '../run/reconnect.js';
import type { MetricsOptions } from '../metrics/prometheus.js';
import type { FeedPosition } from './position.js';

// What listenToChanges() takes and gives: the change event, the listener's status and options.

/** One change of a table with a change feed. */
export interface ChangeEvent<Row = Record<string, unknown>> {
  /** Order of recording (a bigint, as text). */
  readonly seq: string;
  /** The writing transaction (xid8, as text). */
  readonly xid: string;
  /** Which kind of change it was. */
  readonly op: 'insert' | 'update' | 'delete';
  /** The row's key: its new key for an update that moved it. */
  readonly key: Record<string, unknown>;
  /** For an update that changed the key: the key it had. */
  readonly oldKey: Record<string, unknown> | null;
  /** For an update: the columns whose values changed. */
  readonly changed: readonly string[] | null;
  /** The row as written (the deleted row for a delete), as JSON. */
  readonly row: Row;
}

/**
 * What a change listener reports through onStatus: connected, caught up with the log, disconnected (and when it retries), stopped.
 */
export type ChangeListenerStatus =
  | {
      /** Connected and listening. */
      readonly type: 'connected';
    }
  | {
      /** Read the log up to now. */
      readonly type: 'caught-up';
      /** Changes delivered while catching up. */
      readonly delivered: number;
      /** Where it got to. */
      readonly position: FeedPosition;
    }
  | {
      /** Lost the connection, or could not connect. */
      readonly type: 'disconnected';
      /** Why. */
      readonly error: string;
      /** When it tries again, in milliseconds. */
      readonly retryInMs: number;
    }
  | {
      /** Stopped for good. */
      readonly type: 'stopped';
    };

/** What listenToChanges() takes: the database, the feed, and what to do with each change. */
export interface ChangeListenerOptions<Row> {
  /** The database of the feed: a connection string or a pg Client config. */
  readonly connection: string | Record<string, unknown>;
  /** The feed to listen to: the changeFeed(...) node of its migration. */
  readonly feed: ChangeFeedNode;
  /** Called once per change, one at a time, in order; the next waits for its promise. A throw stops the listener (see `stopped`). */
  readonly onChange: (event: ChangeEvent<Row>) => void | Promise<void>;
  /** Keep how far this consumer got in the database, and start from there next time. */
  readonly consumer?: string;
  /** Where to start without a kept position: 'now' (default), 'beginning' of the log, or a position. */
  readonly from?: 'now' | 'beginning' | FeedPosition;
  /** How often to read the log for anything NOTIFY did not bring, and advance the kept position; default 5 s. */
  readonly checkpointIntervalMs?: number;
  /** Waits between connection attempts: from initialMs (default 500), doubling up to maxMs (default 30 s), less up to a quarter (jitter). */
  readonly retry?: RetryOptions;
  /** Told of each connection, catch-up, loss (`disconnected`: the error, naming the feed, and the wait before the next attempt) and the stop. */
  readonly onStatus?: (status: ChangeListenerStatus) => void;
  /** Expose Prometheus metrics (changes received, lag seconds, last checkpoint) on `{ port }` or in your prom-client `{ registry }`; needs prom-client. None by default. */
  readonly metrics?: MetricsOptions;
}

/** A running change listener, as listenToChanges() returns it. */
export interface ChangeListener {
  /** Finishes the change in hand, closes the connection; resolves when the listener has stopped (a failure that stopped it rejects `stopped`, not this). */
  stop(): Promise<void>;
  /** Settles when the listener stops: rejects with the error of an onChange that threw. */
  readonly stopped: Promise<void>;
  /** Every change at or before it was delivered; undefined until the first connection. */
  position(): FeedPosition | undefined;
  /** With `metrics: { port }`: resolves to the URL metrics are served at once listening; undefined otherwise. */
  readonly metricsUrl: Promise<string | undefined>;
}

import type { Finding, Severity } from '../doctor/findings.js';
import type { ConflictRecord } from '../outbox/conflict-log.js';

/** A foreign server (link) of the database, and whether a connection through it works now. */
export interface LinkStatus {
  /** The foreign server's name. */
  readonly server: string;
  /** Where it points: `database legacy at db:5432`. */
  readonly target: string;
  /** True when a connection through the link (as the status reader's role) works; null when not tested (no user mapping for that role). */
  readonly reachable: boolean | null;
  /** Why it could not be reached or tested (passwords scrubbed); null when reached. */
  readonly error: string | null;
}

/** How a sync sends its changes: in the writer's statement, at the writer's commit, or through an outbox a worker drains. */
export type SyncMode = 'immediate' | 'commit' | 'outbox';

/** A sync from a table of this database to a link. */
export interface SyncStatus {
  /** The synced table, quoted where SQL needs it: `public.products`. */
  readonly table: string;
  /** The foreign server it sends to. */
  readonly server: string;
  /** How it sends (see SyncMode). */
  readonly mode: SyncMode;
  /** True when every trigger of the sync fires always (ENABLE ALWAYS); false when one is disabled or limited to some sessions. */
  readonly enabled: boolean;
  /** The outbox's current delivery error; null when deliveries succeed, and always null for immediate and commit syncs (the writer's own transaction fails instead). */
  readonly lastError: string | null;
}

/** An outbox: what waits, how old it is, how fast it drains, what was set aside. */
export interface OutboxStatus {
  /** The sync it belongs to: `public.products to server legacy`. */
  readonly sync: string;
  /** The outbox's lag view, quoted. */
  readonly lagView: string;
  /** Changed keys not yet delivered. */
  readonly pending: number;
  /** Seconds since the oldest undelivered change was recorded; null when none waits. */
  readonly oldestPendingSeconds: number | null;
  /** Changes delivered per second since the `previous` status given to status(); null without one. */
  readonly deliveredPerSecond: number | null;
  /** Changes delivered since the outbox was created. */
  readonly deliveredTotal: number;
  /** When a drain last delivered a batch; null if never. */
  readonly lastDeliveredAt: Date | null;
  /** Drains that failed in a row. */
  readonly consecutiveFailures: number;
  /** The failure of the latest delivery; null once a delivery succeeds. */
  readonly currentError: string | null;
  /** Keys set aside after the other side rejected them too often (the `_failed` table): failed rows. */
  readonly failedRows: number;
  /** Later changes to those keys, held until they are retried or discarded. */
  readonly held: number;
}

/** One named consumer of a change feed and how far behind it is. */
export interface FeedConsumerStatus {
  /** The consumer's name. */
  readonly consumer: string;
  /** Changes it has not received. */
  readonly pending: number;
  /** Seconds since the oldest of those was recorded; null when none waits. */
  readonly lagSeconds: number | null;
  /** Seconds since it last checkpointed. */
  readonly checkpointedSecondsAgo: number;
}

/** A change feed of this database and its named consumers. */
export interface FeedStatus {
  /** The feed's lag view, quoted: `public.orders__changes_lag`. */
  readonly lagView: string;
  /** Its named consumers, most behind first. */
  readonly consumers: readonly FeedConsumerStatus[];
}

/** What status() read from one database: one screen of it. */
export interface SyncLinkStatus {
  /** The database's name. */
  readonly database: string;
  /** Its PostgreSQL version, e.g. `18.1`. */
  readonly serverVersion: string;
  /** When it was read (the server's clock). */
  readonly readAt: Date;
  /** Foreign servers and whether they can be reached. */
  readonly links: readonly LinkStatus[];
  /** Syncs from this database's tables to a link. */
  readonly syncs: readonly SyncStatus[];
  /** Outboxes of outbox syncs. */
  readonly outboxes: readonly OutboxStatus[];
  /** Change feeds and their consumers. */
  readonly feeds: readonly FeedStatus[];
  /** Conflicts two-way outboxes settled here in the last 24 hours, newest first, at most 10 (listConflicts reads them all). */
  readonly conflicts: readonly ConflictRecord[];
  /** What needs attention, as the doctor words it (links, sync triggers, outboxes, feed consumers, conflicts); ok findings included. */
  readonly findings: readonly Finding[];
  /** The worst severity among the findings. */
  readonly worst: Severity;
  /** 0 when every finding is ok, 1 when any is a warning or an error (the doctor's exit code). */
  readonly exitCode: 0 | 1;
}

/** What status() takes besides the database. */
export interface StatusOptions {
  /** statement_timeout of each read, and the connect timeout when given a connection string, in milliseconds (default 10000). */
  readonly timeoutMs?: number;
  /** The status read before from the same database: outbox rates are measured against it. None by default (rates are null). */
  readonly previous?: SyncLinkStatus;
}

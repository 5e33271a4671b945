import type { RetryOptions } from '../run/reconnect.js';
import type { MetricsOptions } from '../metrics/prometheus.js';
import type { SyncTriggerNode } from '../kinds/sync/sync-trigger.js';

// The outbox worker's public shapes: its options, its events and its handle.

/** What a worker reports as it goes; useful for logs and metrics. Every error names the sync(s) it concerns. */
export type OutboxWorkerEvent =
  | {
      /** Connected and listening. */
      readonly type: 'connected';
    }
  | {
      /** A drain delivered changes. */
      readonly type: 'delivered';
      /** Which sync, e.g. `public.products on server legacy`. */
      readonly sync: string;
      /** Changes delivered. */
      readonly count: number;
    }
  | {
      /** A delivery failed; the worker waits `retryInMs` (the shared backoff), then tries again. */
      readonly type: 'failed';
      /** Which sync. */
      readonly sync: string;
      /** Why, naming the sync. */
      readonly error: string;
      /** When it tries again, in milliseconds. */
      readonly retryInMs: number;
    }
  | {
      /** Changes the other side kept rejecting were set aside (see the outbox's `_failed` table); the rest flows on. */
      readonly type: 'set-aside';
      /** Which sync. */
      readonly sync: string;
      /** Keys set aside by this drain. */
      readonly keys: number;
    }
  | {
      /** The connection was lost or could not be opened. */
      readonly type: 'disconnected';
      /** Why, naming the worker's syncs. */
      readonly error: string;
      /** When it tries again, in milliseconds. */
      readonly retryInMs: number;
      /** Set when a drain of that sync was running. */
      readonly sync?: string;
    }
  | {
      /** Stopped for good. */
      readonly type: 'stopped';
    };

/** What startOutboxWorker() takes: the database, the outbox syncs to drain, and how. */
export interface OutboxWorkerOptions {
  /** The database that holds the outboxes: a connection string or a pg Client config. The worker keeps one connection of its own (LISTEN needs one). */
  readonly connection: string | Record<string, unknown>;
  /** Syncs made with `delivery: 'outbox'`, whose outboxes this worker drains. */
  readonly syncs: readonly SyncTriggerNode[];
  /** Changes per batch (one transaction each); default 1000. */
  readonly batchSize?: number;
  /** Drain at least this often even when no notification arrives; default 30 s. */
  readonly pollIntervalMs?: number;
  /** Waits after a failure: from initialMs (default 500), doubling up to maxMs (default 30 s), less up to a quarter (jitter). Only stop() and idle() end a wait early. */
  readonly retry?: RetryOptions;
  /** Deliveries of a key the other side rejects (a constraint, a data error) before it is set aside; default 5. See the outbox's `_failed` table. */
  readonly maxAttempts?: number;
  /** Called with each event (connected, delivered, failed, set-aside, disconnected, stopped); nothing by default. */
  readonly onEvent?: (event: OutboxWorkerEvent) => void;
  /** Stop cleanly on SIGTERM and SIGINT (finish the current batch, close the connection); default false. */
  readonly handleSignals?: boolean;
  /** Expose Prometheus metrics (pending, lag seconds, failed rows, delivered, failures, drain duration) on `{ port }` or in your prom-client `{ registry }`; needs prom-client. None by default. */
  readonly metrics?: MetricsOptions;
}

/** A running outbox worker, as startOutboxWorker() returns it. */
export interface OutboxWorker {
  /** Finishes the batch in flight, closes the connection; resolves when the worker has stopped (a failure that stopped it rejects `stopped`, not this). */
  stop(): Promise<void>;
  /** Drains now; resolves when a pass that began after this call found every outbox empty (for tests and shutdown scripts). */
  idle(): Promise<void>;
  /** Settles when the worker stops; rejects when `metrics` could not start (prom-client missing, the port taken), which stops the worker. */
  readonly stopped: Promise<void>;
  /** With `metrics: { port }`: resolves to the URL metrics are served at once listening; undefined otherwise. */
  readonly metricsUrl: Promise<string | undefined>;
}

import {
  instrumentMaker,
  metricOf,
  startMetrics,
  type MetricsHost,
  type MetricsOptions,
} from '../metrics/prometheus.js';
import { previewSql, qualified, sql } from '../sql/index.js';
import type { OutboxNames } from './outbox.js';

// The outbox worker's Prometheus metrics, fed from its events and from the lag views it reads
// after each pass. Every series is labelled with the sync, e.g. `public.orders to server legacy`.

/** The worker's events, as far as metrics count them (OutboxWorkerEvent, read by shape). */
interface CountedEvent {
  readonly type: string;
  readonly sync?: string;
  readonly count?: number;
  readonly keys?: number;
}

interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
}

/** What the worker calls: nothing happens when no metrics were asked for. */
export interface OutboxMetricsHook {
  /** Counts an event (delivered, failed, set-aside). */
  event(event: CountedEvent): void;
  /** After a pass over the outboxes: records how long it took and reads each lag view. Never throws. */
  passed(client: Queryable, seconds: number): Promise<void>;
  /** Resolves to the /metrics URL once served (undefined without a port); rejects when prom-client is missing or the port is taken. */
  readonly ready: Promise<string | undefined>;
  /** Closes the HTTP server. */
  close(): Promise<void>;
}

const NONE: OutboxMetricsHook = {
  event: () => {},
  passed: async () => {},
  ready: Promise.resolve(undefined),
  close: async () => {},
};

function instruments(host: MetricsHost) {
  const { prom, registry } = host;
  const { gauge, counter } = instrumentMaker(host, ['sync']);
  return {
    pending: gauge('pg_sync_link_outbox_pending', 'Changed keys recorded and not yet delivered.'),
    lag: gauge(
      'pg_sync_link_outbox_lag_seconds',
      'Age of the oldest undelivered change, in seconds (0 when none waits).',
    ),
    failedRows: gauge('pg_sync_link_outbox_failed_rows', 'Keys set aside after the other side kept rejecting them.'),
    delivered: counter('pg_sync_link_outbox_delivered_total', 'Changes delivered by this worker.'),
    failures: counter(
      'pg_sync_link_outbox_failures_total',
      'Deliveries that failed (the other side down or refusing).',
    ),
    setAside: counter('pg_sync_link_outbox_set_aside_total', 'Keys this worker set aside.'),
    duration: metricOf(
      registry,
      'pg_sync_link_outbox_drain_duration_seconds',
      () =>
        new prom.Histogram({
          name: 'pg_sync_link_outbox_drain_duration_seconds',
          help: 'Time of one pass of the worker over its outboxes, until each was empty or failed.',
          buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
          registers: [registry],
        }),
    ),
  };
}

/**
 * The metrics hook of a worker over `outboxes`: a no-op without `options`. Options are checked
 * now; prom-client is loaded (and the port opened) in the background: `ready` says how it went.
 */
export function outboxMetrics(
  options: MetricsOptions | undefined,
  outboxes: readonly OutboxNames[],
): OutboxMetricsHook {
  if (options === undefined) return NONE;
  const started = startMetrics(options, 'startOutboxWorker metrics', 'startOutboxWorker({ metrics })', (host) => {
    const made = instruments(host);
    for (const names of outboxes) {
      // Every series exists from the start, so a dashboard shows 0 rather than nothing.
      for (const counter of [made.delivered, made.failures, made.setAside]) counter.inc({ sync: names.label }, 0);
    }
    return made;
  });
  const lagQueries = outboxes.map((names) =>
    previewSql(sql`SELECT pending::float8 AS pending, COALESCE(extract(epoch FROM oldest_pending_age), 0)::float8 AS age,
  (pg_catalog.to_jsonb(l) ->> 'set_aside')::float8 AS set_aside FROM ${qualified(names.lag)} AS l`),
  );
  return {
    ready: started.ready,
    close: started.close,
    event(event) {
      const made = started.instruments();
      if (!made || event.sync === undefined) return;
      if (event.type === 'delivered') made.delivered.inc({ sync: event.sync }, event.count ?? 0);
      else if (event.type === 'failed') made.failures.inc({ sync: event.sync });
      else if (event.type === 'set-aside') made.setAside.inc({ sync: event.sync }, event.keys ?? 0);
    },
    async passed(client, seconds) {
      const made = started.instruments();
      if (!made) return;
      made.duration.observe(seconds);
      try {
        for (const [at, names] of outboxes.entries()) {
          const row = (await client.query(lagQueries[at]!)).rows[0];
          if (!row) continue;
          made.pending.set({ sync: names.label }, Number(row.pending));
          made.lag.set({ sync: names.label }, Number(row.age));
          made.failedRows.set({ sync: names.label }, Number(row.set_aside ?? 0));
        }
      } catch {
        // A lost connection is the worker's to notice; the gauges keep their last values.
      }
    },
  };
}

import { instrumentMaker, startMetrics, type MetricsHost, type MetricsOptions } from '../metrics/prometheus.js';
import { previewSql, qualified, sql, type QualifiedName } from '../sql/index.js';

// A change listener's Prometheus metrics, labelled with the feed's table and the consumer
// (empty for a listener without one).

interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
}

/** What the listener calls: nothing happens when no metrics were asked for. */
export interface FeedMetricsHook {
  /** Counts a change handed to onChange. */
  received(): void;
  /** After a checkpoint at `position`: when it was, and the age of the oldest change logged after it. Never throws. */
  checkpointed(client: Queryable, position: { xid: string; seq: string }): Promise<void>;
  /** Resolves to the /metrics URL once served (undefined without a port); rejects when prom-client is missing or the port is taken. */
  readonly ready: Promise<string | undefined>;
  /** Closes the HTTP server. */
  close(): Promise<void>;
}

const NONE: FeedMetricsHook = {
  received: () => {},
  checkpointed: async () => {},
  ready: Promise.resolve(undefined),
  close: async () => {},
};

function instruments(host: MetricsHost) {
  const { gauge, counter } = instrumentMaker(host, ['feed', 'consumer']);
  return {
    received: counter('pg_sync_link_feed_received_total', 'Changes handed to onChange.'),
    lag: gauge(
      'pg_sync_link_feed_lag_seconds',
      'At the last checkpoint, age of the oldest change logged after the position kept (0 when none).',
    ),
    checkpoint: gauge(
      'pg_sync_link_feed_checkpoint_timestamp_seconds',
      'When the listener last checkpointed (Unix time): time() minus this is how long it has not.',
    ),
  };
}

/** The metrics hook of a listener on `log`: a no-op without `options`; prom-client loads in the background. */
export function feedMetrics(
  options: MetricsOptions | undefined,
  log: QualifiedName,
  labels: { feed: string; consumer: string },
): FeedMetricsHook {
  if (options === undefined) return NONE;
  const started = startMetrics(options, 'listenToChanges metrics', 'listenToChanges({ metrics })', (host) => {
    const made = instruments(host);
    made.received.inc(labels, 0);
    return made;
  });
  const lagQuery = previewSql(
    sql`SELECT COALESCE(extract(epoch FROM pg_catalog.now() - pg_catalog.min(at)), 0)::float8 AS age FROM ${qualified(log)} WHERE (xid, seq) > ($1::xid8, $2::bigint)`,
  );
  return {
    ready: started.ready,
    close: started.close,
    received: () => started.instruments()?.received.inc(labels),
    async checkpointed(client, position) {
      const made = started.instruments();
      if (!made) return;
      const at = Date.now() / 1000;
      try {
        const { rows } = await client.query(lagQuery, [position.xid, position.seq]);
        made.lag.set(labels, Math.max(0, Number(rows[0]?.age ?? 0)));
      } catch {
        // A lost connection is the listener's to notice.
      }
      // Set last, so a scrape that sees this checkpoint sees its lag too.
      made.checkpoint.set(labels, at);
    },
  };
}

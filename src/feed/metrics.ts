import {
  checkMetricsOptions,
  metricOf,
  openMetricsHost,
  type MetricsHost,
  type MetricsOptions,
} from '../metrics/prometheus.js';
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
  const { prom, registry } = host;
  const labelNames = ['feed', 'consumer'] as const;
  const registers = [registry];
  return {
    received: metricOf(
      registry,
      'pg_sync_link_feed_received_total',
      () =>
        new prom.Counter({
          name: 'pg_sync_link_feed_received_total',
          help: 'Changes handed to onChange.',
          labelNames,
          registers,
        }),
    ),
    lag: metricOf(
      registry,
      'pg_sync_link_feed_lag_seconds',
      () =>
        new prom.Gauge({
          name: 'pg_sync_link_feed_lag_seconds',
          help: 'At the last checkpoint, age of the oldest change logged after the position kept (0 when none).',
          labelNames,
          registers,
        }),
    ),
    checkpoint: metricOf(
      registry,
      'pg_sync_link_feed_checkpoint_timestamp_seconds',
      () =>
        new prom.Gauge({
          name: 'pg_sync_link_feed_checkpoint_timestamp_seconds',
          help: 'When the listener last checkpointed (Unix time): time() minus this is how long it has not.',
          labelNames,
          registers,
        }),
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
  checkMetricsOptions(options, 'listenToChanges metrics');
  const opening = openMetricsHost(options, 'listenToChanges({ metrics })');
  let made: ReturnType<typeof instruments> | undefined;
  let host: MetricsHost | undefined;
  const ready = opening.then((opened) => {
    host = opened;
    made = instruments(opened);
    made.received.inc(labels, 0);
    return opened.url;
  });
  ready.catch(() => undefined);
  const lagQuery = previewSql(
    sql`SELECT COALESCE(extract(epoch FROM pg_catalog.now() - pg_catalog.min(at)), 0)::float8 AS age FROM ${qualified(log)} WHERE (xid, seq) > ($1::xid8, $2::bigint)`,
  );
  return {
    ready,
    received: () => made?.received.inc(labels),
    async checkpointed(client, position) {
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
    async close() {
      await opening.catch(() => undefined);
      await host?.close();
    },
  };
}

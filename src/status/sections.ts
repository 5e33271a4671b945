import { syncTriggerFindings } from '../doctor/checks.js';
import { feedConsumerFindings, feedLagViews } from '../doctor/feed-consumers.js';
import type { Finding } from '../doctor/findings.js';
import type { Inventory, Query, SyncTriggerInfo } from '../doctor/inventory.js';
import { outboxFindings, outboxLagViews } from '../doctor/outbox.js';
import { probeMappings } from '../doctor/reachability.js';
import { outboxObjects } from '../kinds/sync/sync-names.js';
import { quoteIdentifier, quoteQualifiedName } from '../sql/index.js';
import type { FeedStatus, LinkStatus, OutboxStatus, SyncLinkStatus, SyncStatus } from './types.js';

// The sections of one status screen, each read with the doctor's finders (the same names, the
// same queries) and judged by the doctor's checks.

/** Each postgres_fdw server, probed once through the reader's own user mapping. */
export async function readLinks(
  query: Query,
  inventory: Inventory,
): Promise<{ links: LinkStatus[]; findings: Finding[] }> {
  const secrets = inventory.mappings.flatMap((mapping) => mapping.secrets);
  const links: LinkStatus[] = [];
  const findings: Finding[] = [];
  for (const server of inventory.servers.filter((candidate) => candidate.wrapper === 'postgres_fdw')) {
    const probed = await probeMappings(query, inventory, server.name, [], [], secrets);
    findings.push(...probed.findings);
    const problem = probed.findings.find((item) => item.severity !== 'ok');
    const options = server.options;
    links.push({
      server: server.name,
      target: `database ${options.get('dbname') ?? '(default)'} at ${options.get('host') ?? options.get('hostaddr') ?? 'the default host'}:${options.get('port') ?? '5432'}`,
      reachable: probed.probes.size > 0 ? true : problem?.severity === 'error' ? false : null,
      error: probed.probes.size > 0 ? null : (problem?.message ?? 'not tested'),
    });
  }
  return { links, findings };
}

interface OutboxView {
  readonly schema: string;
  readonly name: string;
}

/** The syncs to links, one per table and server, with how they send. */
export async function readSyncs(
  query: Query,
  inventory: Inventory,
  outboxViews: readonly OutboxView[],
  outboxes: readonly OutboxStatus[],
): Promise<{ syncs: SyncStatus[]; findings: Finding[]; outboxLabels: Map<string, string> }> {
  const groups = new Map<string, SyncTriggerInfo[]>();
  for (const trigger of inventory.syncTriggers) {
    const key = JSON.stringify([trigger.schema, trigger.table, trigger.server]);
    groups.set(key, [...(groups.get(key) ?? []), trigger]);
  }
  const syncs: SyncStatus[] = [];
  // A long name's outbox objects are shortened with a hash: the sync names its outbox in full.
  const outboxLabels = new Map<string, string>();
  for (const group of groups.values()) {
    const { schema, table, server } = group[0]!;
    const relation = { schema, name: table };
    const lag = outboxObjects(relation, server).lag;
    const outboxAt = outboxViews.findIndex((view) => view.schema === lag.schema && view.name === lag.name);
    const [deferred] = await query<{ any: boolean }>(
      `SELECT pg_catalog.bool_or(t.tgdeferrable) AS any FROM pg_catalog.pg_trigger t
       WHERE t.tgrelid = pg_catalog.to_regclass($1) AND t.tgname = ANY ($2::text[])`,
      [quoteQualifiedName(relation), group.map((trigger) => trigger.trigger)],
    );
    if (outboxAt >= 0)
      outboxLabels.set(quoteQualifiedName(lag), `${quoteQualifiedName(relation)} to server ${quoteIdentifier(server)}`);
    syncs.push({
      table: quoteQualifiedName(relation),
      server,
      mode: outboxAt >= 0 ? 'outbox' : deferred?.any ? 'commit' : 'immediate',
      enabled: group.every((trigger) => trigger.enabled === 'A'),
      lastError: outboxAt >= 0 ? (outboxes[outboxAt]?.currentError ?? null) : null,
    });
  }
  return { syncs, findings: syncTriggerFindings(inventory.syncTriggers), outboxLabels };
}

/** Every outbox of ours, by its lag view; `previous` gives the delivery rate. */
export async function readOutboxes(
  query: Query,
  previous: SyncLinkStatus | undefined,
  readAt: Date,
): Promise<{ views: OutboxView[]; outboxes: OutboxStatus[]; findings: Finding[] }> {
  const views = await outboxLagViews(query);
  const outboxes: OutboxStatus[] = [];
  for (const view of views) {
    const lagView = quoteQualifiedName({ schema: view.schema, name: view.name });
    // Read as JSON: an outbox made by an older version has no set_aside or current_error column.
    const [row] = await query<{
      pending: string;
      age: number | null;
      delivered_total: string;
      last_delivered_at: Date | null;
      consecutive_failures: number;
      current_error: string | null;
      set_aside: string | null;
      held: string | null;
    }>(
      `SELECT pending::text, extract(epoch FROM oldest_pending_age)::float8 AS age, delivered_total::text, last_delivered_at,
         consecutive_failures, pg_catalog.to_jsonb(l) ->> 'current_error' AS current_error,
         pg_catalog.to_jsonb(l) ->> 'set_aside' AS set_aside, pg_catalog.to_jsonb(l) ->> 'held' AS held FROM ${lagView} AS l`,
    );
    if (!row) continue;
    const [, table, server] = /^(.*)__outbox_(.*)_lag$/.exec(view.name)!;
    const deliveredTotal = Number(row.delivered_total);
    const before = previous?.outboxes.find((outbox) => outbox.lagView === lagView);
    const seconds = previous ? (readAt.getTime() - previous.readAt.getTime()) / 1000 : 0;
    outboxes.push({
      sync: `${quoteQualifiedName({ schema: view.schema, name: table! })} to server ${quoteIdentifier(server!)}`,
      lagView,
      pending: Number(row.pending),
      oldestPendingSeconds: row.age === null ? null : Number(row.age),
      deliveredPerSecond: before && seconds > 0 ? Math.max(0, deliveredTotal - before.deliveredTotal) / seconds : null,
      deliveredTotal,
      lastDeliveredAt: row.last_delivered_at,
      consecutiveFailures: Number(row.consecutive_failures),
      currentError: row.current_error,
      failedRows: Number(row.set_aside ?? 0),
      held: Number(row.held ?? 0),
    });
  }
  return { views, outboxes, findings: await outboxFindings(query) };
}

/** Every change feed with named consumers, most behind first. */
export async function readFeeds(query: Query): Promise<{ feeds: FeedStatus[]; findings: Finding[] }> {
  const feeds: FeedStatus[] = [];
  for (const view of await feedLagViews(query)) {
    const lagView = quoteQualifiedName({ schema: view.schema, name: view.name });
    // Ordered by the view's bigint column (lag.pending), not by the text output of the same name.
    const rows = await query<{ consumer: string; pending: string; age: number | null; checkpointed: number }>(
      `SELECT consumer, pending::text, extract(epoch FROM oldest_pending_age)::float8 AS age,
         extract(epoch FROM pg_catalog.now() - checkpointed_at)::float8 AS checkpointed FROM ${lagView} AS lag
       ORDER BY lag.pending DESC, consumer`,
    );
    feeds.push({
      lagView,
      consumers: rows.map((row) => ({
        consumer: row.consumer,
        pending: Number(row.pending),
        lagSeconds: row.age === null ? null : Number(row.age),
        checkpointedSecondsAgo: Number(row.checkpointed),
      })),
    });
  }
  return { feeds, findings: await feedConsumerFindings(query) };
}

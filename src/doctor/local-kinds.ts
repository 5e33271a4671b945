import { feedObjects } from '../kinds/feed/change-feed.js';
import { quoteQualifiedName } from '../sql/index.js';
import { finding, type Finding } from './findings.js';
import type { Query } from './inventory.js';
import { triggerStateFinding, type TriggerState } from './trigger-state.js';

// The kinds that need no link: same-database syncs and change feeds. Their triggers are
// checked like a sync's (every one ENABLE ALWAYS); a feed also lists its named consumers.

const NOT_TEMP = `n.oid <> pg_catalog.pg_my_temp_schema() AND NOT pg_catalog.pg_is_other_temp_schema(n.oid)`;

interface TriggerRow {
  schema: string;
  table: string;
  function: string;
  trigger: string;
  enabled: string;
}

/** Findings for every same-database sync and change feed of the database. */
export async function localKindFindings(query: Query): Promise<Finding[]> {
  // A same-database sync's function keeps its loop guard in the pg_sync_link.local_origin setting;
  // a feed's triggers are change_feed and change_feed_truncate, calling <table>__changes_record().
  const rows = await query<TriggerRow & { kind: 'local' | 'feed' }>(
    `SELECT n.nspname::text AS schema, c.relname::text AS table, p.proname::text AS function, t.tgname::text AS trigger, t.tgenabled::text AS enabled,
       CASE WHEN p.prosrc LIKE '%pg_sync_link.local_origin%' THEN 'local' ELSE 'feed' END AS kind
     FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid
     WHERE NOT t.tgisinternal AND p.pronamespace = c.relnamespace AND ${NOT_TEMP}
       AND (p.prosrc LIKE '%pg_sync_link.local_origin%'
            OR (t.tgname IN ('change_feed', 'change_feed_truncate') AND p.proname LIKE '%\\_\\_changes\\_record'))
     ORDER BY 1, 2, 3, 4`,
  );
  const groups = new Map<
    string,
    { kind: 'local' | 'feed'; schema: string; table: string; function: string; triggers: TriggerState[] }
  >();
  // A feed's function is named as changeFeed derives it from the table (shortened when long).
  for (const row of rows.filter(
    (candidate) =>
      candidate.kind === 'local' ||
      feedObjects({ schema: candidate.schema, name: candidate.table }).record.name === candidate.function,
  )) {
    const key = JSON.stringify([row.schema, row.table, row.function]);
    const group = groups.get(key) ?? {
      kind: row.kind,
      schema: row.schema,
      table: row.table,
      function: row.function,
      triggers: [],
    };
    group.triggers.push({ trigger: row.trigger, enabled: row.enabled });
    groups.set(key, group);
  }
  const findings: Finding[] = [];
  for (const group of groups.values()) {
    const table = quoteQualifiedName({ schema: group.schema, name: group.table });
    if (group.kind === 'local') {
      const fn = quoteQualifiedName({ schema: group.schema, name: group.function });
      findings.push(
        triggerStateFinding(
          'same-database-sync',
          `same-database sync of ${table} (${fn})`,
          table,
          `changes to ${table} are not copied to the sync's target table, and the two tables drift apart`,
          group.triggers,
        ),
      );
    } else {
      const subject = `change feed of ${table}`;
      const state = triggerStateFinding(
        'change-feed',
        subject,
        table,
        `changes to ${table} are neither logged nor notified, and every listener misses them`,
        group.triggers,
      );
      findings.push(
        state.severity === 'ok'
          ? finding(
              'change-feed',
              'ok',
              subject,
              `${state.message} ${await consumers(query, group.schema, group.table)}`,
            )
          : state,
      );
    }
  }
  return findings;
}

/** The named consumers of a feed and when each last checkpointed, or why they cannot be read. */
async function consumers(query: Query, schema: string, table: string): Promise<string> {
  const cursors = quoteQualifiedName(feedObjects({ schema, name: table }).cursors);
  const [access] = await query<{ readable: boolean | null }>(
    `SELECT pg_catalog.has_table_privilege(pg_catalog.to_regclass($1), 'SELECT') AS readable`,
    [cursors],
  );
  if (access?.readable !== true) return `Its consumers table ${cursors} cannot be read by this role.`;
  const rows = await query<{ consumer: string; age: string }>(
    `SELECT consumer, pg_catalog.date_trunc('second', pg_catalog.now() - updated_at)::text AS age FROM ${cursors} ORDER BY consumer`,
  );
  if (rows.length === 0) return 'No named consumer has checkpointed yet.';
  return `Named consumers: ${rows.map((row) => `${JSON.stringify(row.consumer)} (last checkpoint ${row.age} ago)`).join(', ')}.`;
}

import { quoteQualifiedName } from '../sql/index.js';
import type { Finding } from './findings.js';
import type { Query } from './inventory.js';
import { triggerStateFinding } from './trigger-state.js';

// A sync's dependsOn puts triggers on the table its lookups read, named
// <sync function>_dep_<event>, calling that function's dependency function (or, for commit, the
// sync function itself). One that does not fire always leaves the synced rows stale silently.

const NOT_TEMP = `n.oid <> pg_catalog.pg_my_temp_schema() AND NOT pg_catalog.pg_is_other_temp_schema(n.oid)`;

/** Findings for the dependency triggers of every sync with `dependsOn`, one per sync and table. */
export async function dependencyTriggerFindings(query: Query): Promise<Finding[]> {
  const rows = await query<{ schema: string; table: string; sync: string; trigger: string; enabled: string }>(
    `SELECT n.nspname::text AS schema, c.relname::text AS table, m[1] AS sync, t.tgname::text AS trigger, t.tgenabled::text AS enabled
     FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid,
     pg_catalog.regexp_match(t.tgname::text, '^(.+__sync_to_.+)_dep_(insert|update|delete|commit|truncate)$') AS m
     WHERE NOT t.tgisinternal AND m IS NOT NULL AND pg_catalog.starts_with(p.proname::text, m[1]) AND ${NOT_TEMP}
     ORDER BY 1, 2, 3, 4`,
  );
  const groups = new Map<string, typeof rows>();
  for (const row of rows) {
    const key = JSON.stringify([row.schema, row.table, row.sync]);
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  return [...groups.values()].map((group) => {
    const first = group[0]!;
    const table = quoteQualifiedName({ schema: first.schema, name: first.table });
    return triggerStateFinding(
      'sync-trigger',
      `dependency of ${first.sync} on ${table}`,
      table,
      `changes to ${table} are not sent to the synced rows that read it (${first.sync}), which go stale`,
      group,
    );
  });
}

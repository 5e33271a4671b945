import { quoteIdentifier } from '../sql/index.js';
import { finding, type Finding } from './findings.js';
import type { Query, SyncTriggerInfo } from './inventory.js';

// A write to a synced table waits for the other server inside the writer's own statement: a
// frozen peer (it accepts the connection and never answers) is bounded by no connection option
// postgres_fdw applies, and a cross-server deadlock waits on a local row lock held by the
// incoming sync. Only the writer's statement_timeout and lock_timeout end those waits.

interface WriterRow {
  role: string;
  tables: string[];
  statement_timeout: string | null;
  lock_timeout: string | null;
}

const isUnset = (value: string | null) => value === null || /^\s*0+\s*(ms|s|min|h|d)?\s*$/.test(value);

// A role's default for a setting, as a new session of it gets it here: ALTER ROLE ... IN
// DATABASE, then ALTER ROLE, then ALTER DATABASE, then the server's configuration.
const effective = (setting: string) => `COALESCE(
  (SELECT pg_catalog.substr(c, ${setting.length + 2}) FROM pg_catalog.pg_db_role_setting rs, pg_catalog.unnest(rs.setconfig) AS c
    WHERE c LIKE '${setting}=%' AND ((rs.setrole = w.oid AND rs.setdatabase IN (0, d.oid)) OR (rs.setrole = 0 AND rs.setdatabase = d.oid))
    ORDER BY rs.setrole = 0, rs.setdatabase = 0 LIMIT 1),
  (SELECT s.reset_val FROM pg_catalog.pg_settings s WHERE s.name = '${setting}' AND s.source IN ('configuration file', 'command line', 'environment variable')))`;

/**
 * The login roles (superusers aside) that may write to a table with a sync trigger, and whether
 * each gets a statement_timeout and a lock_timeout by default; a warning for each that lacks one.
 */
export async function writerTimeoutFindings(query: Query, triggers: readonly SyncTriggerInfo[]): Promise<Finding[]> {
  const tables = [...new Map(triggers.map((trigger) => [`${trigger.schema}.${trigger.table}`, trigger])).values()];
  if (tables.length === 0) return [];
  const rows = await query<WriterRow>(
    `WITH synced AS (SELECT pg_catalog.format('%I.%I', t.schema, t.name)::pg_catalog.regclass AS rel
                     FROM ROWS FROM (pg_catalog.unnest($1::text[]), pg_catalog.unnest($2::text[])) AS t(schema, name)),
          writers AS (SELECT r.oid, r.rolname, pg_catalog.array_agg(DISTINCT synced.rel::text) AS tables
                      FROM pg_catalog.pg_roles r CROSS JOIN synced
                      WHERE r.rolcanlogin AND NOT r.rolsuper AND pg_catalog.has_table_privilege(r.oid, synced.rel, 'INSERT, UPDATE, DELETE')
                      GROUP BY 1, 2)
     SELECT w.rolname::text AS role, w.tables, ${effective('statement_timeout')} AS statement_timeout, ${effective('lock_timeout')} AS lock_timeout
     FROM writers w CROSS JOIN (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database()) AS d ORDER BY 1`,
    [tables.map((table) => table.schema), tables.map((table) => table.table)],
  );
  return rows.map((row) => {
    const role = quoteIdentifier(row.role);
    const subject = `role ${role}`;
    const missing = [
      isUnset(row.statement_timeout) ? 'statement_timeout' : undefined,
      isUnset(row.lock_timeout) ? 'lock_timeout' : undefined,
    ].filter((name): name is string => name !== undefined);
    if (missing.length === 0) {
      return finding(
        'writer-timeout',
        'ok',
        subject,
        `Role ${role} writes to synced tables with statement_timeout = ${row.statement_timeout} and lock_timeout = ${row.lock_timeout}: its waits for the other server end.`,
      );
    }
    return finding(
      'writer-timeout',
      'warning',
      subject,
      `Role ${role} may write to synced tables (${row.tables.join(', ')}) with no ${missing.join(' and no ')}: a frozen other server, or two writers that lock each other's rows across the servers, make its writes wait forever (connect_timeout and keepalives do not end those waits).`,
      `${missing.map((name) => `ALTER ROLE ${role} SET ${name} = '${name === 'statement_timeout' ? '30s' : '5s'}';`).join(' ')} (or IN DATABASE ...; values to suit the application), and retry transactions that fail with 55P03, 57014, 40001 or 40P01.`,
    );
  });
}

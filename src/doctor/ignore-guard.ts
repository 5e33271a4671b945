import { endpointViews } from '../kinds/sync/sync-names.js';
import { quoteQualifiedName } from '../sql/index.js';
import { mappingOf } from './checks.js';
import { finding, type Finding } from './findings.js';
import type { Inventory, Query } from './inventory.js';

// A two-way sync holds only while each side ignores exactly the role the other side's sync
// connects here as. A wrong name installs fine and every write then bounces back to where it
// came from (until a lock timeout ends it). Checked here: the role exists, it is not this side's
// own outgoing role, and it may write into this side's endpoint views, as the incoming sync must.

/** The role a sync trigger function ignores, as its guard spells it (see ignoreGuard). */
const GUARD = /IF SESSION_USER = '((?:[^']|'')*)' THEN/;

export async function ignoreGuardFindings(query: Query, inventory: Inventory): Promise<Finding[]> {
  const syncs = new Map<string, { schema: string; table: string; server: string; function: string; owner: string }>();
  for (const trigger of inventory.syncTriggers) syncs.set(JSON.stringify([trigger.schema, trigger.function]), trigger);
  const findings: Finding[] = [];
  for (const sync of syncs.values()) {
    const fn = quoteQualifiedName({ schema: sync.schema, name: sync.function });
    const [source] = await query<{ prosrc: string }>(
      `SELECT p.prosrc FROM pg_catalog.pg_proc p WHERE p.oid = $1::pg_catalog.regproc`,
      [fn],
    );
    const match = source === undefined ? null : GUARD.exec(source.prosrc);
    if (match === null) continue;
    const role = match[1]!.replaceAll("''", "'");
    const table = quoteQualifiedName({ schema: sync.schema, name: sync.table });
    const subject = `sync of ${table} to server ${sync.server}`;
    const bounce = (why: string, fix: string) =>
      finding(
        'ignore-writes',
        'error',
        subject,
        `ignoreWritesBy names role ${JSON.stringify(role)}, ${why}: writes the other side's sync makes here are sent back to it (a loop that ends in a lock timeout).`,
        fix,
      );
    const [exists] = await query<{ found: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1) AS found`,
      [role],
    );
    if (!exists?.found) {
      findings.push(
        bounce(
          'which does not exist',
          `Set ignoreWritesBy.role to the role the other side's user mapping connects here as, and run the sync's migration again (changeMigration).`,
        ),
      );
      continue;
    }
    const mapping = mappingOf(inventory, sync.server, sync.owner);
    const outgoing = inventory.mappings.find(
      (candidate) => candidate.server === sync.server && (candidate.role ?? 'PUBLIC') === mapping,
    )?.remoteUser;
    if (outgoing === role) {
      findings.push(
        bounce(
          `which is the role this side connects to server ${sync.server} as (its own outgoing sync)`,
          `Swap the names: this side ignores the role the other side connects here as, and the other side ignores ${JSON.stringify(role)}.`,
        ),
      );
      continue;
    }
    const writers = await endpointWriters(query, sync.schema, sync.table, role);
    if (writers === undefined) {
      findings.push(
        finding(
          'ignore-writes',
          'ok',
          subject,
          `Ignores writes by role ${JSON.stringify(role)}; this database has no endpoint for ${table}, so nothing arrives to be ignored yet.`,
        ),
      );
    } else if (!writers.allowed) {
      const others =
        writers.grantees.length === 0
          ? 'no role has been granted INSERT on them'
          : `INSERT on them is granted to ${writers.grantees.map((name) => JSON.stringify(name)).join(', ')}`;
      findings.push(
        bounce(
          `which may not write into this side's endpoint views of ${table} (${others}), so it is not the role the other side's sync writes here as`,
          `Set ignoreWritesBy.role to the role the other side's user mapping connects here as (the endpoint's grantTo)${writers.grantees.length === 1 ? `, probably ${JSON.stringify(writers.grantees[0])}` : ''}.`,
        ),
      );
    } else {
      findings.push(
        finding(
          'ignore-writes',
          'ok',
          subject,
          `Ignores writes by role ${JSON.stringify(role)}, which may write into this side's endpoint views of ${table}, as the other side's sync does.`,
        ),
      );
    }
  }
  return findings;
}

/** What every upsert view of the table's endpoints starts with, before the 8-character hash of its columns. */
function upsertPrefix(schema: string, table: string): string {
  return endpointViews({ schema, name: table }, [], []).upsert.name.slice(0, -8);
}

/** Whether `role` may INSERT into the table's endpoint views here, and who was granted it; undefined without an endpoint. */
async function endpointWriters(
  query: Query,
  schema: string,
  table: string,
  role: string,
): Promise<{ allowed: boolean; grantees: string[] } | undefined> {
  const rows = await query<{ allowed: boolean; grantees: string[] | null }>(
    `SELECT pg_catalog.has_table_privilege($3, c.oid, 'INSERT') AS allowed,
       (SELECT pg_catalog.array_agg(DISTINCT g.grantee::text ORDER BY g.grantee::text) FROM information_schema.role_table_grants g
        WHERE g.table_schema = n.nspname AND g.table_name = c.relname AND g.privilege_type = 'INSERT' AND g.grantee <> g.grantor) AS grantees
     FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relkind = 'v' AND pg_catalog.left(c.relname, pg_catalog.length($2)) = $2
       AND pg_catalog.length(c.relname) = pg_catalog.length($2) + 8`,
    [schema, upsertPrefix(schema, table), role],
  );
  if (rows.length === 0) return undefined;
  return {
    allowed: rows.some((row) => row.allowed),
    grantees: [...new Set(rows.flatMap((row) => row.grantees ?? []))],
  };
}

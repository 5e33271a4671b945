import { quoteIdentifier, quoteLiteral } from '../sql/index.js';
import { mappingOf } from './checks.js';
import { finding, type Finding } from './findings.js';
import type { ForeignTableInfo, Inventory, Query } from './inventory.js';
import { probeServer, type RemoteView } from './remote.js';

/**
 * Connects once through each distinct user mapping that matters on the server (the doctor's
 * own, and those the sync and shared-id functions run with), as a role that uses it.
 */
export async function probeMappings(
  query: Query,
  inventory: Inventory,
  server: string,
  roles: readonly string[],
  tables: readonly ForeignTableInfo[],
  secrets: readonly string[],
): Promise<{ probes: Map<string, RemoteView>; findings: Finding[] }> {
  const subject = `server ${server}`;
  const findings: Finding[] = [];
  const relations = tables.map((table) => table.remote);
  const groups = new Map<string, string[]>();
  for (const role of [inventory.currentUser, ...roles]) {
    const mapping = mappingOf(inventory, server, role);
    if (mapping === undefined) continue;
    const members = groups.get(mapping) ?? [];
    if (!members.includes(role)) members.push(role);
    groups.set(mapping, members);
  }
  // Keyed by the mapping (a role name or PUBLIC), the doctor's own first.
  const probes = new Map<string, RemoteView>();
  for (const [mapping, members] of groups) {
    const asRole = members.includes(inventory.currentUser) ? undefined : await firstBecomable(query, members);
    const through = mapping === 'PUBLIC' ? 'the PUBLIC user mapping' : `the user mapping for ${mapping}`;
    if (asRole === null) {
      findings.push(
        finding(
          'server-reachable',
          'warning',
          subject,
          `Could not test ${through}: the doctor's role ${inventory.currentUser} is not a member of ${members.join(', ')}.`,
          `Run the doctor as ${members[0]} (or a superuser) to test that mapping.`,
        ),
      );
      continue;
    }
    const result = await probeServer(query, server, asRole, relations, secrets);
    const as = asRole ?? inventory.currentUser;
    if (result.reached) {
      probes.set(mapping, result);
      findings.push(
        finding(
          'server-reachable',
          'ok',
          subject,
          `Reached ${describeTarget(inventory, server)} (PostgreSQL ${result.version}) through ${through}, as ${as}.`,
        ),
      );
    } else if (result.stage === 'setup') {
      findings.push(
        finding(
          'server-reachable',
          'warning',
          subject,
          `Could not test ${through} as ${as}: ${result.error}`,
          `Run the doctor as the role that ran the migrations: it needs the TEMP privilege on this database and USAGE on server ${server} (it makes temporary foreign tables, dropped at once).`,
        ),
      );
    } else {
      findings.push(
        finding(
          'server-reachable',
          'error',
          subject,
          `Cannot reach ${describeTarget(inventory, server)} through ${through}, as ${as}: ${result.error}`,
          `Check the server's host, port and dbname (ALTER SERVER ${quoteIdentifier(server)} OPTIONS (SET port ${quoteLiteral('5432')})) and the mapping's user and password (ALTER USER MAPPING FOR ${mapping === 'PUBLIC' ? 'PUBLIC' : quoteIdentifier(mapping)} SERVER ${quoteIdentifier(server)} OPTIONS (SET password ${quoteLiteral('<password>')})); the remote must be running and accept connections from this host (listen_addresses, pg_hba.conf).`,
        ),
      );
    }
  }
  if (groups.size === 0) {
    findings.push(
      finding(
        'server-reachable',
        'warning',
        subject,
        `Not tested: neither the doctor's role ${inventory.currentUser} nor PUBLIC has a user mapping on server ${server}.`,
        `Run the doctor as a role with a user mapping on ${server} (the one that ran its migrations), or CREATE USER MAPPING FOR CURRENT_USER SERVER ${quoteIdentifier(server)} OPTIONS (user ${quoteLiteral('<remote role>')}, password ${quoteLiteral('<password>')}).`,
      ),
    );
  }
  return { probes, findings };
}

function describeTarget(inventory: Inventory, server: string): string {
  const options = inventory.servers.find((candidate) => candidate.name === server)?.options;
  const host = options?.get('host') ?? options?.get('hostaddr') ?? 'the default host';
  return `database ${options?.get('dbname') ?? '(default)'} at ${host}:${options?.get('port') ?? '5432'}`;
}

/** The first role the doctor may SET ROLE to, or null. */
async function firstBecomable(query: Query, roles: readonly string[]): Promise<string | null> {
  for (const role of roles) {
    const [row] = await query<{ member: boolean }>(
      `SELECT pg_catalog.pg_has_role(CURRENT_USER, $1, 'MEMBER') AS member`,
      [role],
    );
    if (row?.member) return role;
  }
  return null;
}

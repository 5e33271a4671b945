import { quoteIdentifier, quoteLiteral, quoteQualifiedName } from '../sql/index.js';
import { finding, type Finding } from './findings.js';
import type { EndpointView, Inventory, SyncTriggerInfo } from './inventory.js';
import { triggerStateFinding } from './trigger-state.js';

// Checks answered by the local catalog alone.

export function postgresFdwFindings(inventory: Inventory): Finding[] {
  const links = inventory.servers.filter((server) => server.wrapper === 'postgres_fdw').length;
  const { available, defaultVersion, installedVersion } = inventory.fdw;
  if (!available) {
    return [
      finding(
        'postgres-fdw',
        links > 0 ? 'error' : 'warning',
        'extension postgres_fdw',
        `postgres_fdw is not available on this server (not in pg_available_extensions): no link can be made${links > 0 ? `, and the ${links} existing foreign servers cannot work` : ''}.`,
        `Install the PostgreSQL contrib package for this server's major version (e.g. apt install postgresql-contrib, or postgresql${Math.floor(inventory.versionNum / 10000)}-contrib), then fdwLink creates the extension.`,
      ),
    ];
  }
  if (installedVersion === null) {
    return [
      finding(
        'postgres-fdw',
        'ok',
        'extension postgres_fdw',
        `Available (version ${defaultVersion}), not installed in this database: the first fdwLink migration installs it.`,
      ),
    ];
  }
  return [
    finding(
      'postgres-fdw',
      'ok',
      'extension postgres_fdw',
      `Installed (version ${installedVersion}), used by ${links} foreign server${links === 1 ? '' : 's'}.`,
    ),
  ];
}

/** The roles whose user mapping on each server the sync and shared-id functions use, and what for. */
export function mappingNeeds(inventory: Inventory): {
  needs: Map<string, Map<string, Set<string>>>;
  findings: Finding[];
} {
  const needs = new Map<string, Map<string, Set<string>>>();
  const findings: Finding[] = [];
  const need = (server: string, role: string, what: string) => {
    const roles = needs.get(server) ?? new Map<string, Set<string>>();
    needs.set(server, roles);
    const uses = roles.get(role) ?? new Set<string>();
    roles.set(role, uses);
    uses.add(what);
  };
  const notDefiner = new Set<string>();
  for (const trigger of inventory.syncTriggers) {
    const fn = quoteQualifiedName({ schema: trigger.schema, name: trigger.function });
    if (trigger.securityDefiner)
      need(
        trigger.server,
        trigger.owner,
        `the sync triggers of ${quoteQualifiedName({ schema: trigger.schema, name: trigger.table })}`,
      );
    else notDefiner.add(fn);
  }
  for (const borrower of inventory.borrowers) {
    const fn = quoteQualifiedName({ schema: borrower.schema, name: borrower.function });
    if (borrower.securityDefiner) need(borrower.server, borrower.owner, `the shared ids of ${fn}()`);
    else notDefiner.add(fn);
  }
  for (const fn of notDefiner) {
    findings.push(
      finding(
        'user-mapping',
        'warning',
        `function ${fn}`,
        `${fn}() is not SECURITY DEFINER, as pg-sync-link makes it: it runs as each caller, so every role that writes the table needs its own user mapping.`,
        `ALTER FUNCTION ${fn}() SECURITY DEFINER, or reinstall it with its migration.`,
      ),
    );
  }
  return { needs, findings };
}

/** The mapping a role uses on a server: its own, else PUBLIC's; undefined when it has none. */
export function mappingOf(inventory: Inventory, server: string, role: string): string | undefined {
  if (inventory.mappings.some((mapping) => mapping.server === server && mapping.role === role)) return role;
  if (inventory.mappings.some((mapping) => mapping.server === server && mapping.role === null)) return 'PUBLIC';
  return undefined;
}

export function userMappingFindings(inventory: Inventory, needs: Map<string, Map<string, Set<string>>>): Finding[] {
  const findings: Finding[] = [];
  for (const [server, roles] of needs) {
    for (const [role, uses] of roles) {
      const mapping = mappingOf(inventory, server, role);
      const what = [...uses].join(', ');
      const subject = `server ${server}, role ${role}`;
      if (mapping === undefined) {
        findings.push(
          finding(
            'user-mapping',
            'error',
            subject,
            `Role ${role} has no user mapping on server ${server} (nor has PUBLIC), but ${what} run as ${role} (SECURITY DEFINER): every write that reaches the link fails.`,
            `CREATE USER MAPPING FOR ${quoteIdentifier(role)} SERVER ${quoteIdentifier(server)} OPTIONS (user ${quoteLiteral('<remote role>')}, password ${quoteLiteral('<password>')}), or a migration with userMapping({ server: ${JSON.stringify(server)}, for: { role: ${JSON.stringify(role)} }, user: ..., password: env('...') }).`,
          ),
        );
      } else {
        findings.push(
          finding(
            'user-mapping',
            'ok',
            subject,
            `${what} run as ${role}, which has ${mapping === 'PUBLIC' ? 'the PUBLIC' : 'its own'} user mapping on server ${server}.`,
          ),
        );
      }
    }
  }
  return findings;
}

export function syncTriggerFindings(triggers: readonly SyncTriggerInfo[]): Finding[] {
  const groups = new Map<string, SyncTriggerInfo[]>();
  for (const trigger of triggers) {
    const key = JSON.stringify([trigger.schema, trigger.table, trigger.server]);
    groups.set(key, [...(groups.get(key) ?? []), trigger]);
  }
  return [...groups.values()].map((group) => {
    const first = group[0]!;
    const table = quoteQualifiedName({ schema: first.schema, name: first.table });
    return triggerStateFinding(
      'sync-trigger',
      `sync of ${table} to server ${first.server}`,
      table,
      `changes to ${table} are not sent to server ${first.server}, and the two sides drift apart`,
      group,
    );
  });
}

/** The receiving side: each endpoint view needs its INSTEAD rule, which turns a batch into an upsert or delete. */
export function endpointViewFindings(endpoints: readonly EndpointView[]): Finding[] {
  if (endpoints.length === 0) return [];
  const broken = endpoints.filter((view) => !view.ruleWorks);
  if (broken.length === 0) {
    return [
      finding(
        'sync-endpoint',
        'ok',
        'this database',
        `${endpoints.length} sync endpoint view${endpoints.length === 1 ? '' : 's'} for other databases to write into, each with its rule.`,
      ),
    ];
  }
  return broken.map((view) => {
    const name = quoteQualifiedName({ schema: view.schema, name: view.name });
    return finding(
      'sync-endpoint',
      'error',
      `view ${name}`,
      `The endpoint view ${name} has no enabled ${view.rule} rule: every batch the other side sends fails with "cannot insert into view".`,
      `Roll back and reinstall the syncEndpoint migration that made it (or ALTER TABLE ${name} ENABLE RULE ${view.rule}, if it was disabled).`,
    );
  });
}

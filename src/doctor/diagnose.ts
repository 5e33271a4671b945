import { InvalidOptionError } from '../errors.js';
import { senderObjects } from '../kinds/sync/sync-names.js';
import { withSession, type DatabaseTarget } from '../run/session.js';
import { quoteIdentifier } from '../sql/index.js';
import {
  endpointViewFindings,
  mappingNeeds,
  mappingOf,
  postgresFdwFindings,
  syncTriggerFindings,
  userMappingFindings,
} from './checks.js';
import { driftFinding, type ForeignTableUse, type LocalType } from './drift.js';
import { exitCodeOf, finding, worstOf, type Diagnosis, type Finding } from './findings.js';
import { DEFAULT_SEQUENCE_WARN_AT, headroomFindings } from './headroom.js';
import { queryOf, readInventory, type ForeignTableInfo, type Inventory, type Query } from './inventory.js';
import { feedConsumerFindings } from './feed-consumers.js';
import { ignoreGuardFindings } from './ignore-guard.js';
import { localKindFindings } from './local-kinds.js';
import { dependencyTriggerFindings } from './dependency-triggers.js';
import { outboxFindings } from './outbox.js';
import { conflictFindings } from './conflicts.js';
import { privilegeFinding } from './privileges.js';
import { probeMappings } from './reachability.js';
import { relationKey, type RemoteColumn } from './remote.js';
import { versionFindings } from './version-gates.js';
import { slotFindings, subscriptionFindings } from './replication.js';
import { writerTimeoutFindings } from './writer-timeouts.js';

/** What diagnose() takes besides the database: thresholds and limits of the checks. */
export interface DiagnoseOptions {
  /** Share of a sequence's range from which it warns (default 0.8). */
  readonly sequenceWarnAt?: number;
  /** statement_timeout of the doctor's queries, in milliseconds (default 10000). */
  readonly timeoutMs?: number;
}

/**
 * Checks the health of a database where pg-sync-link objects are installed: postgres_fdw, every
 * foreign server (through a real connection), the user mappings the sync and shared-id functions
 * run with, the server's version against the features in use, foreign tables against the remote's
 * real columns, sync triggers, and the headroom of shared-id sequences.
 *
 * It changes nothing: it runs in one transaction that it always rolls back, and only reads
 * catalogs remotely. Give it a connection string, a pg Pool, or a pg Client not in a transaction.
 *
 * @example
 * const { findings, exitCode } = await diagnose(process.env.DATABASE_URL);
 */
export async function diagnose(target: DatabaseTarget, options: DiagnoseOptions = {}): Promise<Diagnosis> {
  const warnAt = options.sequenceWarnAt ?? DEFAULT_SEQUENCE_WARN_AT;
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (typeof warnAt !== 'number' || !(warnAt > 0 && warnAt <= 1))
    throw new InvalidOptionError('sequenceWarnAt must be a number above 0 and at most 1, e.g. 0.8.', 'sequenceWarnAt');
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0)
    throw new InvalidOptionError('timeoutMs must be a positive whole number of milliseconds.', 'timeoutMs');
  return withSession(target, async (session) => {
    const query = queryOf(session.execute);
    // Its own transaction, always rolled back: refuse a connection already in one, whose work
    // the rollback would throw away. In a transaction block, now() is when it began.
    const [fresh] = await query<{ outside: boolean }>(
      'SELECT pg_catalog.now() = pg_catalog.statement_timestamp() AS outside',
    );
    if (!fresh?.outside)
      throw new InvalidOptionError(
        'diagnose needs a connection that is not in a transaction: it runs its own and rolls it back.',
        'db',
      );
    await query('BEGIN');
    let diagnosis: Diagnosis;
    try {
      await query(`SELECT pg_catalog.set_config('statement_timeout', $1, true)`, [String(timeoutMs)]);
      const inventory = await readInventory(query);
      const findings = await findingsOf(query, inventory, warnAt);
      const worst = worstOf(findings);
      diagnosis = {
        serverVersion: inventory.version,
        serverVersionNum: inventory.versionNum,
        findings,
        worst,
        exitCode: exitCodeOf(worst),
      };
    } catch (error) {
      // The first error is the one to report, not a failed rollback on a broken connection.
      await query('ROLLBACK').catch(() => undefined);
      throw error;
    }
    await query('ROLLBACK');
    return diagnosis;
  });
}

async function findingsOf(query: Query, inventory: Inventory, warnAt: number): Promise<Finding[]> {
  const fdwOptions = new Set([
    ...inventory.servers.flatMap((server) => [...server.options.keys()]),
    ...inventory.foreignTables.flatMap((table) => [...table.options.keys()]),
  ]);
  const findings: Finding[] = [
    ...versionFindings(inventory.version, inventory.versionNum, {
      syncTriggers: inventory.syncTriggers.length,
      sharedIdObjects: inventory.borrowers.length + inventory.sequences.length,
      fdwOptions,
      publications: inventory.publications,
      subscriptions: inventory.subscriptions,
      subscriptionsOriginNone: inventory.subscriptionsOriginNone,
    }),
    ...postgresFdwFindings(inventory),
  ];
  const { needs, findings: definerFindings } = mappingNeeds(inventory);
  findings.push(...definerFindings, ...userMappingFindings(inventory, needs));
  const secrets = inventory.mappings.flatMap((mapping) => mapping.secrets);
  for (const server of inventory.servers.filter((candidate) => candidate.wrapper === 'postgres_fdw')) {
    const tables = inventory.foreignTables.filter((table) => table.server === server.name);
    const roles = [...(needs.get(server.name)?.keys() ?? [])];
    const { probes, findings: serverFindings } = await probeMappings(
      query,
      inventory,
      server.name,
      roles,
      tables,
      secrets,
    );
    findings.push(...serverFindings);
    const reached = [...probes.values()][0]?.relations;
    if (reached === undefined) {
      if (tables.length > 0) {
        findings.push(
          finding(
            'foreign-table-drift',
            'warning',
            `server ${server.name}`,
            `The ${tables.length} foreign tables of server ${server.name} were not compared with the remote: it could not be reached.`,
            'Fix the connection (see above), then run the doctor again.',
          ),
        );
      }
      continue;
    }
    const typeOf = await localTypes(
      query,
      [...reached.values()].flatMap((relation) => relation.columns),
    );
    let allowed = 0;
    const denied: Finding[] = [];
    for (const table of tables) {
      const use = useOf(inventory, table);
      findings.push(driftFinding(table, use, reached.get(relationKey(table.remote.schema, table.remote.name)), typeOf));
      // Privileges are those of the mapping the foreign table is used through.
      const role = use.kind === 'plain' ? inventory.currentUser : use.runsAs;
      const mapping = mappingOf(inventory, server.name, role);
      const view = mapping === undefined ? undefined : probes.get(mapping);
      if (mapping === undefined || view === undefined) continue;
      const remoteRole =
        inventory.mappings.find(
          (candidate) => candidate.server === server.name && (candidate.role ?? 'PUBLIC') === mapping,
        )?.remoteUser ?? role;
      const problem = privilegeFinding(table, use, view, remoteRole);
      if (problem) denied.push(problem);
      else allowed += 1;
    }
    if (allowed > 0 && denied.length === 0) {
      findings.push(
        finding(
          'remote-privilege',
          'ok',
          `server ${server.name}`,
          `The remote roles may use what the ${allowed} foreign table${allowed === 1 ? '' : 's'} of server ${server.name} need (INSERT into sync endpoints, SELECT otherwise).`,
        ),
      );
    }
    findings.push(...denied);
  }
  findings.push(
    ...syncTriggerFindings(inventory.syncTriggers),
    ...endpointViewFindings(inventory.endpoints),
    ...headroomFindings(inventory.sequences, warnAt),
    ...(await outboxFindings(query)),
    ...(await conflictFindings(query)),
    ...(await feedConsumerFindings(query)),
    ...(await localKindFindings(query)),
    ...(await dependencyTriggerFindings(query)),
    ...(await ignoreGuardFindings(query, inventory)),
  );
  findings.push(
    ...(await writerTimeoutFindings(query, inventory.syncTriggers)),
    ...(await subscriptionFindings(query, inventory.versionNum)),
    ...(await slotFindings(query)),
  );
  return findings;
}

function useOf(inventory: Inventory, table: ForeignTableInfo): ForeignTableUse {
  const sync = inventory.syncTriggers.find((trigger) => {
    if (trigger.schema !== table.schema || trigger.server !== table.server) return false;
    const objects = senderObjects({ schema: trigger.schema, name: trigger.table }, trigger.server);
    return [objects.upsertTable.name, objects.deleteTable.name].includes(table.name);
  });
  if (sync)
    return {
      kind: 'sync',
      table: `${quoteIdentifier(sync.schema)}.${quoteIdentifier(sync.table)}`,
      runsAs: sync.owner,
    };
  const borrower = inventory.borrowers.find(
    (candidate) => candidate.schema === table.schema && candidate.source === table.name,
  );
  if (borrower)
    return {
      kind: 'shared-ids',
      fn: `${quoteIdentifier(borrower.schema)}.${quoteIdentifier(borrower.function)}`,
      runsAs: borrower.owner,
    };
  return { kind: 'plain' };
}

/** Resolves remote column types by name to this database's types, to compare them with the foreign columns. */
async function localTypes(
  query: Query,
  columns: readonly RemoteColumn[],
): Promise<(column: RemoteColumn) => LocalType> {
  const rows =
    columns.length === 0
      ? []
      : await query<{ i: string; oid: string | null; display: string | null }>(
          `SELECT r.i::text AS i, t.oid::int8::text AS oid, CASE WHEN t.oid IS NOT NULL THEN pg_catalog.format_type(t.oid, r.typmod) END AS display
     FROM ROWS FROM (pg_catalog.unnest($1::text[]), pg_catalog.unnest($2::text[]), pg_catalog.unnest($3::int[])) WITH ORDINALITY AS r(schema, name, typmod, i)
     LEFT JOIN (pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace) ON n.nspname = r.schema AND t.typname = r.name`,
          [
            columns.map((column) => column.typeSchema),
            columns.map((column) => column.typeName),
            columns.map((column) => column.typmod),
          ],
        );
  const resolved = new Map<RemoteColumn, LocalType>();
  for (const row of rows) {
    const column = columns[Number(row.i) - 1]!;
    resolved.set(column, {
      oid: row.oid === null ? null : Number(row.oid),
      display:
        row.display ?? `${quoteIdentifier(column.typeSchema)}.${quoteIdentifier(column.typeName)} (no such type here)`,
    });
  }
  return (column) => resolved.get(column) ?? { oid: null, display: column.typeName };
}

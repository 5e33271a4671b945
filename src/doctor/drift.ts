import { quoteIdentifier, quoteLiteral, quoteQualifiedName } from '../sql/index.js';
import { finding, type Finding } from './findings.js';
import type { ForeignTableInfo } from './inventory.js';
import type { RemoteColumn, RemoteRelation } from './remote.js';

/** A remote column's type as this database knows it: `oid` null when no local type has its name. */
export interface LocalType {
  readonly oid: number | null;
  readonly display: string;
}

/** What a foreign table is for, which decides the check it belongs to and how to fix it. */
export type ForeignTableUse =
  | { readonly kind: 'plain' }
  /** `runsAs`: the owner of the SECURITY DEFINER function that uses the foreign table, whose mapping it goes through. */
  | { readonly kind: 'sync'; readonly table: string; readonly runsAs: string }
  | { readonly kind: 'shared-ids'; readonly fn: string; readonly runsAs: string };

const name = (schema: string, relation: string) => quoteQualifiedName({ schema, name: relation });

/**
 * Compares a foreign table with the remote relation it reads: a column gone remotely is an error
 * (every query naming it fails), a changed type a warning (values convert through text, and may
 * not), remote columns the foreign table lacks are only mentioned.
 */
export function driftFinding(
  table: ForeignTableInfo,
  use: ForeignTableUse,
  remote: RemoteRelation | undefined,
  typeOf: (column: RemoteColumn) => LocalType,
): Finding {
  const local = name(table.schema, table.name);
  const target = name(table.remote.schema, table.remote.name);
  const subject = `foreign table ${local}`;
  const check = use.kind === 'sync' ? 'sync-endpoint' : 'foreign-table-drift';
  const sent = table.columns.map((column) => column.remoteName).join(', ');
  if (remote === undefined) {
    if (use.kind === 'sync') {
      return finding(
        check,
        'error',
        subject,
        `The sync of ${use.table} to server ${table.server} writes into the remote view ${target}, which that database does not have: every write to ${use.table} fails.`,
        `In the database of server ${table.server}, install syncEndpoint({ table, key, columns }) with exactly the columns (${sent}) and key of the syncTrigger (run its migration there).`,
      );
    }
    if (use.kind === 'shared-ids') {
      return finding(
        check,
        'error',
        subject,
        `${use.fn}() takes ids from the remote view ${target}, which the database of server ${table.server} does not have: every insert that needs an id fails.`,
        `In the database of server ${table.server}, install sharedIdSource({ table, column, strategy }) with the same strategy (run its migration there).`,
      );
    }
    return finding(
      check,
      'error',
      subject,
      `It reads ${target} on server ${table.server}, which does not exist there: every query on ${local} fails.`,
      `Restore the remote table, point the foreign table at its new name (ALTER FOREIGN TABLE ${local} OPTIONS (SET table_name ${quoteLiteral('<new name>')})), or roll back the migration that made it.`,
    );
  }
  const remoteColumns = new Map(remote.columns.map((column) => [column.name, column]));
  const gone: string[] = [];
  const changed: string[] = [];
  const alterTypes: string[] = [];
  for (const column of table.columns) {
    const there = remoteColumns.get(column.remoteName);
    const shown =
      column.remoteName === column.name
        ? quoteIdentifier(column.name)
        : `${quoteIdentifier(column.name)} (remote ${quoteIdentifier(column.remoteName)})`;
    if (there === undefined) {
      gone.push(shown);
      continue;
    }
    const type = typeOf(there);
    // A foreign column without a type modifier (varchar, numeric) takes any modifier remotely.
    const same = type.oid === column.typeOid && (column.typmod === -1 || column.typmod === there.typmod);
    if (!same) {
      changed.push(`${shown} is ${column.type} here, ${type.display} there`);
      alterTypes.push(`ALTER FOREIGN TABLE ${local} ALTER COLUMN ${quoteIdentifier(column.name)} TYPE ${type.display}`);
    }
  }
  const names = new Set(table.columns.map((column) => column.remoteName));
  const extra = remote.columns
    .filter((column) => !names.has(column.name))
    .map((column) => quoteIdentifier(column.name));
  const note =
    extra.length > 0 ? ` Remote columns not in this foreign table (informational): ${extra.join(', ')}.` : '';
  if (gone.length > 0) {
    const fix =
      use.kind === 'sync'
        ? `Install the endpoint for the sender's columns (${sent}) in the database of server ${table.server}, or change the syncTrigger to the columns the remote has.`
        : use.kind === 'shared-ids'
          ? `Reinstall sharedIdSource in the database of server ${table.server} with the same strategy.`
          : `Drop the columns from the foreign table (ALTER FOREIGN TABLE ${local} DROP COLUMN ...) with a migration (changeMigration from the old foreignTable spec to one without them), or re-import it.`;
    return finding(
      check,
      'error',
      subject,
      `${target} on server ${table.server} no longer has ${gone.join(', ')}: every query that reads or writes ${gone.length === 1 ? 'it' : 'them'} through ${local} fails.${changed.length > 0 ? ` Also changed: ${changed.join('; ')}.` : ''}${note}`,
      fix,
    );
  }
  if (changed.length > 0) {
    return finding(
      check,
      'warning',
      subject,
      `Columns of ${target} on server ${table.server} changed type: ${changed.join('; ')}. Values convert through text, and may fail or lose precision.${note}`,
      use.kind === 'plain'
        ? `${alterTypes.join('; ')} (or a changeMigration to a foreignTable spec with the remote's types).`
        : `Reinstall the ${use.kind === 'sync' ? 'syncTrigger' : 'sharedIds'} migration so its foreign table takes the remote's types.`,
    );
  }
  const count = `${table.columns.length} column${table.columns.length === 1 ? '' : 's'}`;
  const what =
    use.kind === 'sync'
      ? `The sync endpoint ${target} on server ${table.server} has the ${count} sent`
      : `Its ${count} match${table.columns.length === 1 ? 'es' : ''} ${target} on server ${table.server}`;
  return finding(check, 'ok', subject, `${what}.${note}`);
}

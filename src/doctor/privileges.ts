import { quoteIdentifier, quoteQualifiedName } from '../sql/index.js';
import type { ForeignTableUse } from './drift.js';
import { finding, type Finding } from './findings.js';
import type { ForeignTableInfo } from './inventory.js';
import { privilegeKey, type RemoteView } from './remote.js';

/**
 * Whether the remote role a foreign table goes through may do what it is for: INSERT into a
 * sync endpoint view, SELECT and UPDATE a shared-id view, SELECT from a plain remote table. Undefined when it may
 * (or when the remote relation is missing, which the drift check reports).
 */
export function privilegeFinding(
  table: ForeignTableInfo,
  use: ForeignTableUse,
  view: RemoteView,
  remoteRole: string,
): Finding | undefined {
  const { schema, name } = table.remote;
  if (view.superuser || !view.relations.has(JSON.stringify([schema, name]))) return undefined;
  // Shared ids are taken by an UPDATE of the view (which writes nothing) that returns the id.
  const needed = use.kind === 'sync' ? ['INSERT'] : use.kind === 'shared-ids' ? ['SELECT', 'UPDATE'] : ['SELECT'];
  if (needed.every((privilege) => view.privileges.has(privilegeKey(schema, name, privilege)))) return undefined;
  const target = quoteQualifiedName({ schema, name });
  const granted = use.kind === 'sync' ? 'SELECT, INSERT' : needed.join(', ');
  const grant = `GRANT ${granted} ON ${target} TO ${quoteIdentifier(remoteRole)}`;
  const subject = `foreign table ${quoteQualifiedName({ schema: table.schema, name: table.name })}`;
  if (use.kind === 'sync') {
    return finding(
      'remote-privilege',
      'error',
      subject,
      `The remote role ${remoteRole}, which the sync of ${use.table} connects as, may not INSERT into the endpoint view ${target} on server ${table.server}: every write to ${use.table} fails.`,
      `In the database of server ${table.server}: ${grant}, or give its syncEndpoint grantTo: ${JSON.stringify(remoteRole)}.`,
    );
  }
  if (use.kind === 'shared-ids') {
    return finding(
      'remote-privilege',
      'error',
      subject,
      `The remote role ${remoteRole}, which ${use.fn}() connects as, may not SELECT and UPDATE ${target} on server ${table.server}: every insert that needs an id fails.`,
      `In the database of server ${table.server}: ${grant}, or give its sharedIdSource grantTo: ${JSON.stringify(remoteRole)}.`,
    );
  }
  return finding(
    'remote-privilege',
    'warning',
    subject,
    `The remote role ${remoteRole} (the doctor's mapping) may not SELECT from ${target} on server ${table.server}: reading the foreign table fails for roles that use this mapping.`,
    `In the database of server ${table.server}: ${grant}.`,
  );
}

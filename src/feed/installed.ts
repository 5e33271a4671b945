import { feedObjects, type ChangeFeedNode } from '../kinds/feed/change-feed.js';
import { quoteIdentifier, quoteQualifiedName } from '../sql/index.js';

interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
}

/**
 * Checks that the feed's log (and, for a named consumer, its cursor table) exists and that this
 * role may read it (and keep its position), so a listener started before its migration or
 * without grants says what is missing instead of `relation ... does not exist`.
 */
export async function checkFeedInstalled(client: Queryable, feed: ChangeFeedNode, named: boolean): Promise<void> {
  const objects = feedObjects(feed.table);
  const log = quoteQualifiedName(objects.log);
  const cursors = quoteQualifiedName(objects.cursors);
  const { rows } = await client.query(
    `SELECT pg_catalog.to_regclass($1) IS NOT NULL AS installed,
  pg_catalog.to_regclass($1) IS NOT NULL AND pg_catalog.has_table_privilege(pg_catalog.to_regclass($1), 'SELECT') AS can_read,
  pg_catalog.to_regclass($2) IS NOT NULL AND pg_catalog.has_table_privilege(pg_catalog.to_regclass($2), 'SELECT, INSERT, UPDATE') AS can_keep,
  current_user::text AS role`,
    [log, cursors],
  );
  const row = rows[0]!;
  const table = quoteQualifiedName(feed.table);
  const role = quoteIdentifier(String(row.role));
  if (!row.installed) {
    throw new Error(
      `pg-sync-link: the change feed of ${table} is not installed in this database (no table ${log}): apply the migration with changeFeed({ table: ${JSON.stringify(feed.table.name)}, ... }) here; the listener keeps retrying until then.`,
    );
  }
  const missing = [
    row.can_read ? undefined : `GRANT SELECT ON ${log} TO ${role}`,
    named && !row.can_keep ? `GRANT SELECT, INSERT, UPDATE ON ${cursors} TO ${role}` : undefined,
  ].filter((grant) => grant !== undefined);
  if (missing.length > 0) {
    throw new Error(
      `pg-sync-link: the role ${role} may not use the change feed of ${table}: ${missing.join('; ')}; the listener keeps retrying until then.`,
    );
  }
}

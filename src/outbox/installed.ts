import { quoteIdentifier, quoteQualifiedName } from '../sql/index.js';
import type { OutboxNames } from './outbox.js';

interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
}

/** A setup problem the worker cannot fix by retrying: it says which migration or GRANT is missing. */
export class OutboxNotReadyError extends Error {}

/**
 * Checks that each outbox's drain exists in this database and that the worker's role may run it,
 * so a worker started before its migration (or without the grant) says what is missing instead
 * of `function ... does not exist`. The worker keeps waiting (with its backoff) meanwhile.
 */
export async function checkOutboxesInstalled(client: Queryable, outboxes: readonly OutboxNames[]): Promise<void> {
  for (const names of outboxes) {
    const signature = `${quoteQualifiedName(names.drain)}(integer, integer)`;
    const { rows } = await client.query(
      `SELECT pg_catalog.to_regprocedure($1) IS NOT NULL AS installed,
  pg_catalog.to_regprocedure($1) IS NOT NULL AND pg_catalog.has_function_privilege(pg_catalog.to_regprocedure($1), 'EXECUTE') AS allowed,
  current_user::text AS role`,
      [signature],
    );
    const row = rows[0]!;
    if (!row.installed) {
      throw new OutboxNotReadyError(
        `pg-sync-link: the outbox of ${names.label} is not installed in this database (no function ${signature}): apply the migration with its syncTrigger({ ..., delivery: 'outbox' }) here (or re-apply it if it was made by an older pg-sync-link); the worker keeps retrying until then.`,
      );
    }
    if (!row.allowed) {
      throw new OutboxNotReadyError(
        `pg-sync-link: the outbox worker's role ${quoteIdentifier(String(row.role))} may not run the drain of ${names.label}: GRANT EXECUTE ON FUNCTION ${signature} TO ${quoteIdentifier(String(row.role))}; the worker keeps retrying until then.`,
      );
    }
  }
}

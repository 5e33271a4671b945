import { MigrationFailedError, SyncLinkError } from './errors.js';
import type { Migration } from './migration.js';
import { previewSql, resolveStatements, scrubSecrets } from './sql/index.js';

/**
 * Runs one SQL statement on the runner's connection (or transaction). `values` fill `$1`, `$2`...
 * and are only ever given for statements this library writes (to bind secrets).
 */
export type SqlExecutor = (sql: string, values: readonly string[]) => Promise<unknown>;

export interface RunOptions {
  /** Receives each statement, secrets redacted, before it runs. */
  readonly log?: (line: string) => void;
}

interface ServerError {
  message?: unknown;
  code?: unknown;
  detail?: unknown;
  hint?: unknown;
}

/**
 * Runs a migration's statements in order through `execute`. Every deferred value is resolved
 * first, so a missing variable fails before any SQL runs. A failing statement becomes a
 * MigrationFailedError that names the migration and the statement, with secrets scrubbed.
 */
export async function runMigration(
  migration: Migration,
  direction: 'up' | 'down',
  execute: SqlExecutor,
  options: RunOptions = {},
): Promise<void> {
  const statements = migration[direction];
  const { executables, secrets } = await resolveStatements(statements, { transactional: migration.transactional });
  for (const [position, { text, values, statement: index }] of executables.entries()) {
    const preview = previewSql(statements[index]!);
    // A statement sent in several parts (to bind a secret) is logged once, as written.
    if (executables[position - 1]?.statement !== index) options.log?.(preview);
    try {
      await execute(text, values);
    } catch (error) {
      if (error instanceof SyncLinkError) throw error;
      const server = (typeof error === 'object' && error !== null ? error : { message: String(error) }) as ServerError;
      // Some runners (Knex) prefix the message with the SQL, which holds the secret values.
      const message = String(server.message ?? 'unknown error').replace(`${text} - `, '');
      const parts = [
        `Migration "${migration.id}" (${direction}) failed at statement ${index + 1} of ${statements.length}: ${message}`,
        typeof server.detail === 'string' ? `Detail: ${server.detail}` : undefined,
        typeof server.hint === 'string' ? `Hint: ${server.hint}` : undefined,
        `SQL: ${preview}`,
      ];
      throw new MigrationFailedError(
        scrubSecrets(parts.filter((part) => part !== undefined).join('\n'), secrets),
        migration.id,
        direction,
        preview,
        typeof server.code === 'string' ? server.code : undefined,
      );
    }
  }
}

import { MigrationFailedError, SyncLinkError } from '../errors.js';
import type { Migration } from '../model/migration.js';
import { previewSql, resolveStatements, scrubSecrets, type Executable } from '../sql/index.js';

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
 * Knex prefixes a server error with the statement it sent, its values written in: `<sql> - <message>`.
 * That prefix repeats the SQL (and could hold a secret), so it is cut off; the SQL is reported
 * separately, redacted.
 */
function withoutRunnerPrefix(message: string, sent: Executable): string {
  const [head = '', ...rest] = sent.text.split(/\$\d+/);
  const tail = rest.at(-1);
  if (!message.startsWith(head)) return message;
  if (tail === undefined) return message.startsWith(`${head} - `) ? message.slice(head.length + 3) : message;
  const end = message.indexOf(`${tail} - `, head.length);
  return end === -1 ? message : message.slice(end + tail.length + 3);
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
  const fragments = migration[direction];
  const { statements, secrets } = await resolveStatements(fragments);
  for (const [index, { before, setup, main, cleanup, after }] of statements.entries()) {
    const preview = previewSql(fragments[index]!);
    options.log?.(preview);
    try {
      if (before) await execute(before.text, before.values);
      try {
        if (setup) await execute(setup.text, setup.values);
        await execute(main.text, main.values);
      } finally {
        // Best effort: in a transaction that failed, the rollback restores the settings anyway.
        if (cleanup) await execute(cleanup.text, cleanup.values).catch(() => undefined);
        if (after) await execute(after.text, after.values).catch(() => undefined);
      }
    } catch (error) {
      if (error instanceof SyncLinkError) throw error;
      const server = (typeof error === 'object' && error !== null ? error : { message: String(error) }) as ServerError;
      const message = [setup, main, cleanup].reduce(
        (text, executable) => (executable ? withoutRunnerPrefix(text, executable) : text),
        String(server.message ?? 'unknown error'),
      );
      const parts = [
        `Migration "${migration.id}" (${direction}) failed at statement ${index + 1} of ${fragments.length}: ${message}`,
        typeof server.detail === 'string' && server.detail !== '' ? `Detail: ${server.detail}` : undefined,
        typeof server.hint === 'string' && server.hint !== '' ? `Hint: ${server.hint}` : undefined,
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

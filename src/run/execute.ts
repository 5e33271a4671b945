import { MigrationFailedError, SyncLinkError } from '../errors.js';
import type { Migration } from '../model/migration.js';
import { previewSql, resolveStatements, scrubSecrets } from '../sql/index.js';
import { serverErrorOf } from './server-error.js';

/**
 * Runs one SQL statement on the runner's connection (or transaction). `values` fill `$1`, `$2`...
 * and are only ever given for statements this library writes (to bind secrets).
 */
export type SqlExecutor = (sql: string, values: readonly string[]) => Promise<unknown>;

/** Options for running a migration (runMigration and the runner adapters). */
export interface RunOptions {
  /** Receives each statement, secrets redacted, before it runs. */
  readonly log?: (line: string) => void;
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
      const server = serverErrorOf(error);
      const parts = [
        `Migration "${migration.id}" (${direction}) failed at statement ${index + 1} of ${fragments.length}: ${server.message ?? 'unknown error'}`,
        server.detail === undefined ? undefined : `Detail: ${server.detail}`,
        server.hint === undefined ? undefined : `Hint: ${server.hint}`,
        `SQL: ${preview}`,
      ];
      throw new MigrationFailedError(
        scrubSecrets(parts.filter((part) => part !== undefined).join('\n'), secrets),
        migration.id,
        direction,
        preview,
        server.code,
      );
    }
  }
}

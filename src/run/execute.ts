import { MigrationFailedError, SyncLinkError } from '../errors.js';
import type { Migration } from '../model/migration.js';
import { previewSql, resolveStatements, scrubSecrets, type ResolvedStatement } from '../sql/index.js';
import {
  defaultNoticeSink,
  formatNotice,
  refusalOf,
  remedyFor,
  type NoticeSource,
  type ServerNotice,
} from './notices.js';
import { serverErrorOf } from './server-error.js';

/**
 * Runs one SQL statement on the runner's connection (or transaction). `values` fill `$1`, `$2`...
 * and are only ever given for statements this library writes (to bind secrets).
 */
export type SqlExecutor = ((sql: string, values: readonly string[]) => Promise<unknown>) & {
  /** The WARNINGs and NOTICEs of the connection the statements run on, when the runner can see them. */
  readonly notices?: NoticeSource;
};

/** Options for running a migration (runMigration and the runner adapters). */
export interface RunOptions {
  /**
   * Receives each statement, secrets redacted, before it runs; and each WARNING or NOTICE the
   * server sends while it runs (`WARNING: ...`), unless `onNotice` is given.
   */
  readonly log?: (line: string) => void;
  /**
   * Receives each WARNING or NOTICE the server sends while a statement runs. Default: `log`,
   * or without it standard error (the Knex adapter: Knex's logger).
   */
  readonly onNotice?: (notice: ServerNotice) => void;
}

function reportNotice(notice: ServerNotice, options: RunOptions, secrets: readonly string[]): ServerNotice {
  const scrubbed = {
    ...notice,
    message: scrubSecrets(notice.message, secrets),
    ...(notice.detail ? { detail: scrubSecrets(notice.detail, secrets) } : {}),
  };
  if (options.onNotice) options.onNotice(scrubbed);
  else if (options.log) options.log(formatNotice(scrubbed));
  else defaultNoticeSink(scrubbed);
  return scrubbed;
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
  let heard: ServerNotice[] = [];
  const stopListening = execute.notices?.((notice) => heard.push(notice));
  try {
    for (const [index, statement] of statements.entries()) {
      heard = [];
      await runStatement(
        migration,
        direction,
        execute,
        options,
        statement,
        index,
        fragments.length,
        previewSql(fragments[index]!),
        secrets,
        () => heard,
      );
    }
  } finally {
    stopListening?.();
  }
}

async function runStatement(
  migration: Migration,
  direction: 'up' | 'down',
  execute: SqlExecutor,
  options: RunOptions,
  { before, setup, main, cleanup, after }: ResolvedStatement,
  index: number,
  count: number,
  preview: string,
  secrets: readonly string[],
  heard: () => readonly ServerNotice[],
): Promise<void> {
  options.log?.(preview);
  // The message is the one sentence that matters; the statement (often a long DO block) is on `.sql`.
  const fail = (message: string, extra: readonly (string | undefined)[], code: string | undefined, cause?: Error) =>
    new MigrationFailedError(
      scrubSecrets(
        [
          `Migration "${migration.id}" (${direction}) failed at statement ${index + 1} of ${count}: ${message}`,
          ...extra,
        ]
          .filter((part) => part !== undefined)
          .join('\n'),
        secrets,
      ),
      migration.id,
      direction,
      preview,
      code,
      cause ? { cause } : undefined,
    );
  try {
    if (before) await execute(before.text, before.values);
    try {
      if (setup) await execute(setup.text, setup.values);
      await execute(main.text, main.values);
    } finally {
      // Best effort: in a transaction that failed, the rollback restores the settings anyway.
      if (cleanup) await execute(cleanup.text, cleanup.values).catch(() => undefined);
      if (after) await execute(after.text, after.values).catch(() => undefined);
      for (const notice of heard()) reportNotice(notice, options, secrets);
    }
  } catch (error) {
    if (error instanceof SyncLinkError) throw error;
    const server = serverErrorOf(error);
    const message = server.message ?? 'unknown error';
    const scrub = (text: string) => scrubSecrets(text, secrets);
    const cause = Object.assign(new Error(scrub(message)), {
      code: server.code,
      detail: server.detail === undefined ? undefined : scrub(server.detail),
      hint: server.hint === undefined ? undefined : scrub(server.hint),
    });
    const remedy = remedyFor(main.text, message);
    throw fail(
      message,
      [
        server.detail === undefined ? undefined : `Detail: ${server.detail}`,
        server.hint === undefined ? undefined : `Hint: ${server.hint}`,
        remedy ? `To fix: ${remedy}` : undefined,
      ],
      server.code,
      cause,
    );
  }
  // A warning that means PostgreSQL did not do what the statement asked fails the migration
  // (in a transaction, the rollback undoes the statement; without one, the hint says what to run).
  for (const notice of heard()) {
    const refusal = refusalOf(notice, main.text);
    if (refusal) throw fail(refusal.message, [`Hint: ${refusal.hint}`], notice.code ?? '42704');
  }
}

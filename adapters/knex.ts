import type { Knex } from 'knex';
import {
  formatNotice,
  migrationOf,
  noticesOf,
  runMigration,
  type Migration,
  type Part,
  type RunOptions,
  type SqlExecutor,
} from 'pg-sync-link';
import { checkUniqueIds } from './shared/runner-core.js';

/** The shape Knex expects from a migration file: `export const { up, down, config } = ...`. */
export interface KnexMigrationModule {
  /** Runs the migration's up statements on Knex's connection (or transaction). */
  up(knex: Knex): Promise<void>;
  /** Runs its down statements. */
  down(knex: Knex): Promise<void>;
  /** Tells Knex whether to wrap the migration in a transaction. */
  config: {
    /** False when the migration has a statement PostgreSQL refuses in a transaction. */
    transaction: boolean;
  };
  /** The migration it runs, for `npx pg-sync-link sql <file>`. */
  readonly pgSyncLink: Migration;
}

/**
 * Turns links and nodes (or one migration from buildMigration) into a Knex migration module.
 * Knex runs it in a transaction unless the migration cannot run in one.
 *
 * @example
 * // migrations/20261122000000_legacy_link.mjs
 * import { fdwLink, env } from 'pg-sync-link';
 * import { knexMigration } from 'pg-sync-link/knex';
 * export const { up, down, config } = knexMigration(fdwLink({ name: 'legacy', ... }));
 */
export function knexMigration(...parts: [Migration] | Part[]): KnexMigrationModule;
export function knexMigration(...parts: unknown[]): KnexMigrationModule {
  return knexMigrationFrom(migrationOf(parts));
}

/** Same as knexMigration for a built migration, with options such as a statement log. */
export function knexMigrationFrom(migration: Migration, options: RunOptions = {}): KnexMigrationModule {
  const run = (direction: 'up' | 'down') => (knex: Knex) =>
    onOneConnection(knex, (execute) => runMigration(migration, direction, execute, withKnexLogger(knex, options)));
  // The migration also rides on `up`, so `npx pg-sync-link sql <file>` finds it in a file that
  // exports only { up, down, config }.
  const up = Object.assign(run('up'), { pgSyncLink: migration });
  return { up, down: run('down'), config: { transaction: migration.transactional }, pgSyncLink: migration };
}

/**
 * One entry of {@link knexMigrationSource}: the migration, with the `file` and `name` Knex prints
 * (`npx knex migrate:list` shows a pending migration's `file`), both its id.
 */
export interface KnexSourceMigration {
  /** What `npx knex migrate:list` prints for a pending migration: the migration's id. */
  readonly file: string;
  /** The name Knex records in its migrations table once it has run: the migration's id. */
  readonly name: string;
  /** The pg-sync-link migration this entry runs. */
  readonly migration: Migration;
}

/**
 * A Knex migration source for a whole set (planMigrations, versionedMigrations), for a knexfile's
 * `migrations: { migrationSource }` or `knex.migrate.latest({ migrationSource })`. Knex records
 * each migration under its id, so ids must never change once run: they do not, for the same parts.
 * Each entry carries its id as `file` and `name`, so `npx knex migrate:list` lists them by id.
 *
 * @example
 * // knexfile.js
 * export default { client: 'pg', connection: process.env.DATABASE_URL,
 *   migrations: { migrationSource: knexMigrationSource(planMigrations('app', link, sync)) } };
 */
export function knexMigrationSource(
  migrations: readonly Migration[],
  options: RunOptions = {},
): Knex.MigrationSource<KnexSourceMigration> {
  checkUniqueIds(migrations);
  const entries: KnexSourceMigration[] = migrations.map((migration) => ({
    file: migration.id,
    name: migration.id,
    migration,
  }));
  return {
    getMigrations: async () => [...entries],
    getMigrationName: (entry) => entry.name,
    getMigration: async (entry) => knexMigrationFrom(entry.migration, options),
  };
}

/** Without `log` or `onNotice`, server WARNINGs and NOTICEs go to Knex's logger (its `warn`). */
function withKnexLogger(knex: Knex, options: RunOptions): RunOptions {
  if (options.log || options.onNotice) return options;
  // Knex's logger is not in its public types.
  const logger = (knex as unknown as { client?: { logger?: { warn?: (message: string) => void } } }).client?.logger;
  return typeof logger?.warn === 'function'
    ? { ...options, onNotice: (notice) => logger.warn!(`pg-sync-link: ${formatNotice(notice)}`) }
    : options;
}

/**
 * Runs `work` with every statement on one connection of the Knex pool (a transaction's own, in
 * one), so a statement's session settings hold for the next and its server notices are heard.
 */
export async function onOneConnection<T>(knex: Knex, work: (execute: SqlExecutor) => Promise<T>): Promise<T> {
  // Knex's connection pool (acquire/release) is not in its public types.
  const client = (
    knex as unknown as {
      client?: {
        acquireConnection?: () => Promise<unknown>;
        releaseConnection?: (connection: unknown) => Promise<unknown>;
      };
    }
  ).client;
  if (typeof client?.acquireConnection !== 'function' || typeof client.releaseConnection !== 'function')
    return work(knexExecutor(knex));
  const connection = await client.acquireConnection();
  try {
    const notices = noticesOf(connection);
    return await work(Object.assign(knexExecutor(knex, connection), notices ? { notices } : {}));
  } finally {
    await client.releaseConnection(connection);
  }
}

/**
 * Runs statements through a Knex instance or transaction (on `connection`, when given). Knex binds with `?`; only this
 * library's own statements carry values, and only as $1, $2... Other statements are sent
 * without bindings, so a `?` in them stays as written.
 */
export function knexExecutor(knex: Knex, connection?: unknown): SqlExecutor {
  return async (sql, values) => {
    const raw = values.length === 0 ? knex.raw(sql) : knex.raw(sql.replace(/\$(\d+)/g, '?'), [...values]);
    try {
      return await (connection === undefined ? raw : raw.connection(connection));
    } catch (error) {
      if (error instanceof Error) error.message = withoutKnexPrefix(error.message, sql);
      throw error;
    }
  };
}

/**
 * Knex prefixes a server error with the statement it sent, its values written in: `<sql> - <message>`.
 * That prefix repeats the SQL (and could hold a secret), so it is cut off; runMigration reports
 * the SQL separately, redacted.
 */
function withoutKnexPrefix(message: string, sent: string): string {
  const [head = '', ...rest] = sent.split(/\$\d+/);
  const tail = rest.at(-1);
  if (!message.startsWith(head)) return message;
  if (tail === undefined) return message.startsWith(`${head} - `) ? message.slice(head.length + 3) : message;
  const end = message.indexOf(`${tail} - `, head.length);
  return end === -1 ? message : message.slice(end + tail.length + 3);
}

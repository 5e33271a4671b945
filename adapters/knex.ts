import type { Knex } from 'knex';
import { formatNotice, InvalidOptionError, migrationOf, noticesOf, runMigration, type Migration, type Part, type RunOptions, type SqlExecutor } from 'pg-sync-link';

/** The shape Knex expects from a migration file: `export const { up, down, config } = ...`. */
export interface KnexMigrationModule {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
  config: { transaction: boolean };
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
 * A Knex migration source for a whole set (planMigrations, versionedMigrations), for a knexfile's
 * `migrations: { migrationSource }` or `knex.migrate.latest({ migrationSource })`. Knex records
 * each migration under its id, so ids must never change once run: they do not, for the same parts.
 */
export function knexMigrationSource(migrations: readonly Migration[], options: RunOptions = {}): Knex.MigrationSource<Migration> {
  const ids = new Set<string>();
  for (const migration of migrations) {
    if (ids.has(migration.id)) throw new InvalidOptionError(`Two migrations have the id "${migration.id}".`, 'migrations');
    ids.add(migration.id);
  }
  return {
    getMigrations: async () => [...migrations],
    getMigrationName: (migration) => migration.id,
    getMigration: async (migration) => knexMigrationFrom(migration, options),
  };
}

/** Without `log` or `onNotice`, server WARNINGs and NOTICEs go to Knex's logger (its `warn`). */
function withKnexLogger(knex: Knex, options: RunOptions): RunOptions {
  if (options.log || options.onNotice) return options;
  const logger = (knex as unknown as { client?: { logger?: { warn?: (message: string) => void } } }).client?.logger;
  return typeof logger?.warn === 'function' ? { ...options, onNotice: (notice) => logger.warn!(`pg-sync-link: ${formatNotice(notice)}`) } : options;
}

/**
 * Runs `work` with every statement on one connection of the Knex pool (a transaction's own, in
 * one), so a statement's session settings hold for the next and its server notices are heard.
 */
export async function onOneConnection<T>(knex: Knex, work: (execute: SqlExecutor) => Promise<T>): Promise<T> {
  const client = (knex as unknown as { client?: { acquireConnection?: () => Promise<unknown>; releaseConnection?: (connection: unknown) => Promise<unknown> } }).client;
  if (typeof client?.acquireConnection !== 'function' || typeof client.releaseConnection !== 'function') return work(knexExecutor(knex));
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
  return (sql, values) => {
    const raw = values.length === 0 ? knex.raw(sql) : knex.raw(sql.replace(/\$(\d+)/g, '?'), [...values]);
    return connection === undefined ? raw : raw.connection(connection);
  };
}


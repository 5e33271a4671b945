import type { Knex } from 'knex';
import type { Kysely } from 'kysely';
import type { MigrationParams, RunnableMigration, UmzugStorage } from 'umzug';
import {
  InvalidOptionError,
  runMigration,
  type Migration,
  type PgClientLike,
  type PgPoolLike,
  type RunOptions,
  type SqlExecutor,
} from 'pg-sync-link';
import { onOneConnection } from './knex.js';
import { checkUniqueIds, kyselyRunner, pgRunner, type Runner } from './shared/runner-core.js';
import { umzugLog } from './shared/umzug-log.js';

/**
 * A Knex instance or transaction, as far as an Umzug context needs one. Written out rather than
 * imported so that an app with Umzug but without Knex type-checks our types.
 */
export interface KnexContextShape {
  /** Knex's raw(). */
  raw(...args: never[]): unknown;
  /** Knex's transaction(). */
  transaction(...args: never[]): unknown;
}

/** A Kysely instance or transaction, as far as an Umzug context needs one (no import of Kysely's types). */
export interface KyselyContextShape {
  /** Kysely's executeQuery(). */
  executeQuery(...args: never[]): unknown;
  /** Kysely's transaction(). */
  transaction(...args: never[]): unknown;
}

/**
 * What an Umzug context may be: a pg Client or Pool, a Knex instance or a Kysely instance.
 * Umzug calls a function context as a factory, and a Knex instance is a function: pass
 * `context: () => knex`.
 */
export type UmzugContext = PgClientLike | PgPoolLike | KnexContextShape | KyselyContextShape;

function isKnex(context: unknown): context is Knex {
  return typeof context === 'function' && 'raw' in context && 'transaction' in context;
}

// biome-ignore lint/suspicious/noExplicitAny: Kysely's database type is the user's; the adapter runs raw SQL only
function isKysely(context: unknown): context is Kysely<any> {
  return typeof context === 'object' && context !== null && 'executeQuery' in context && 'transaction' in context;
}

function isPgConnection(context: unknown): context is PgClientLike | PgPoolLike {
  return typeof context === 'object' && context !== null && ('query' in context || 'connect' in context);
}

/** How to run statements, in a transaction or not, on whatever the context is. */
function runnerFor(context: unknown): Runner {
  if (isKnex(context)) {
    return (work, transactional) =>
      transactional ? context.transaction((trx) => onOneConnection(trx, work)) : onOneConnection(context, work);
  }
  if (isKysely(context)) return kyselyRunner(context);
  if (isPgConnection(context)) return pgRunner(context);
  throw new InvalidOptionError(
    'The Umzug context must be a pg Client or Pool, a Knex instance or a Kysely instance.',
    'context',
  );
}

/** One built migration as an Umzug RunnableMigration, run in a transaction unless it cannot be. */
export function umzugMigrationFrom<Context extends UmzugContext>(
  migration: Migration,
  options: RunOptions = {},
): RunnableMigration<Context> {
  const run =
    (direction: 'up' | 'down') =>
    ({ context }: MigrationParams<Context>) =>
      runnerFor(context)((execute) => runMigration(migration, direction, execute, options), migration.transactional);
  // The migration also rides on `up`, for `npx pg-sync-link sql <file>`.
  return { name: migration.id, up: Object.assign(run('up'), { pgSyncLink: migration }), down: run('down') };
}

/** A whole set (planMigrations, versionedMigrations) for `new Umzug({ migrations, context, storage })`. */
export function umzugMigrations<Context extends UmzugContext>(
  migrations: readonly Migration[],
  options: RunOptions = {},
): RunnableMigration<Context>[] {
  checkUniqueIds(migrations);
  return migrations.map((migration) => umzugMigrationFrom<Context>(migration, options));
}

/**
 * Umzug storage that keeps the migration log in a table of the same database the migrations
 * change (through the same context), so the log and the schema move together.
 */
export function umzugStorage<Context extends UmzugContext>(
  options: {
    /** The log table, in the connection's search_path; default `pg_sync_link_umzug`. */
    tableName?: string;
  } = {},
): UmzugStorage<Context> {
  const log = umzugLog(options.tableName ?? 'pg_sync_link_umzug');
  // The table is created once per database this storage is used with, not on every call.
  const created = new WeakSet<object>();
  const withLog = <T>(context: unknown, work: (execute: SqlExecutor) => Promise<T>) =>
    runnerFor(context)(async (execute) => {
      const key = (typeof context === 'object' && context !== null) || typeof context === 'function' ? context : null;
      if (key === null || !created.has(key)) {
        await log.create(execute);
        if (key !== null) created.add(key);
      }
      return work(execute);
    }, true);
  return {
    executed: ({ context }) => withLog(context, (execute) => log.executed(execute)),
    logMigration: ({ name, context }) => withLog(context, (execute) => log.log(execute, name)),
    unlogMigration: ({ name, context }) => withLog(context, (execute) => log.unlog(execute, name)),
  };
}

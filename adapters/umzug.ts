import type { Knex } from 'knex';
import type { Kysely } from 'kysely';
import type { MigrationParams, RunnableMigration, UmzugStorage } from 'umzug';
import {
  InvalidOptionError,
  quoteIdentifier,
  runMigration,
  type Migration,
  type PgClientLike,
  type PgPoolLike,
  type RunOptions,
} from 'pg-sync-link';
import { onOneConnection } from './knex.js';
import { checkUniqueIds, kyselyRunner, pgRunner, type Runner } from './shared/runner-core.js';

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

/** How to run statements, in a transaction or not, on whatever the context is. */
function runnerFor(context: unknown): Runner {
  if (isKnex(context)) {
    return (work, transactional) =>
      transactional ? context.transaction((trx) => onOneConnection(trx, work)) : onOneConnection(context, work);
  }
  if (isKysely(context)) return kyselyRunner(context);
  if (typeof context === 'object' && context !== null && ('query' in context || 'connect' in context)) {
    return pgRunner(context as PgClientLike | PgPoolLike);
  }
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
  const table = quoteIdentifier(options.tableName ?? 'pg_sync_link_umzug');
  const query = async (context: unknown, sql: string, values: string[] = []) => {
    let rows: { name: string }[] = [];
    await runnerFor(context)(async (execute) => {
      await execute(
        `CREATE TABLE IF NOT EXISTS ${table} (name text PRIMARY KEY, run_at timestamptz NOT NULL DEFAULT now())`,
        [],
      );
      const result = (await execute(sql, values)) as { rows?: { name: string }[] };
      rows = result.rows ?? [];
    }, true);
    return rows;
  };
  return {
    async executed({ context }) {
      return (await query(context, `SELECT name FROM ${table} ORDER BY run_at, name`)).map((row) => row.name);
    },
    async logMigration({ name, context }) {
      await query(context, `INSERT INTO ${table} (name) VALUES ($1)`, [name]);
    },
    async unlogMigration({ name, context }) {
      await query(context, `DELETE FROM ${table} WHERE name = $1`, [name]);
    },
  };
}

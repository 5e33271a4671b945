import type { Kysely, Migration as KyselyMigration, MigrationProvider } from 'kysely';
import { InvalidOptionError, migrationOf, runMigration, type Migration, type Part, type RunOptions } from 'pg-sync-link';
import { checkUniqueIds, kyselyRunner } from './shared/runner-core.js';

/** A Kysely Migration that also carries the pg-sync-link migration it runs (for `npx pg-sync-link sql`). */
export interface KyselySyncMigration extends KyselyMigration {
  /** The migration it runs, for `npx pg-sync-link sql <file>`. */
  readonly pgSyncLink: Migration;
}

// biome-ignore lint/suspicious/noExplicitAny: Kysely's database type is the user's; the adapter runs raw SQL only
type AnyKysely = Kysely<any>;

async function run(db: AnyKysely, migration: Migration, direction: 'up' | 'down', options: RunOptions): Promise<void> {
  if (!migration.transactional && db.isTransaction) {
    throw new InvalidOptionError(
      `Migration "${migration.id}" cannot run in a transaction: create the Migrator with disableTransactions: true.`,
      'transactional',
    );
  }
  // With disableTransactions, Kysely hands over the database itself: the transaction is ours.
  const transactional = migration.transactional && !db.isTransaction;
  return kyselyRunner(db)((execute) => runMigration(migration, direction, execute, options), transactional);
}

/** Turns one built migration into a Kysely Migration. */
export function kyselyMigrationFrom(migration: Migration, options: RunOptions = {}): KyselySyncMigration {
  // The migration also rides on `up`, for `npx pg-sync-link sql <file>`.
  const up = Object.assign((db: AnyKysely) => run(db, migration, 'up', options), { pgSyncLink: migration });
  return { pgSyncLink: migration, up, down: (db) => run(db, migration, 'down', options) };
}

/**
 * Links and nodes (or one built migration) as a Kysely Migration, for a migration file read by
 * Kysely's FileMigrationProvider: `export const { up, down } = kyselyMigration(...)`.
 */
export function kyselyMigration(...parts: [Migration] | Part[]): KyselySyncMigration;
export function kyselyMigration(...parts: unknown[]): KyselySyncMigration {
  return kyselyMigrationFrom(migrationOf(parts));
}

/**
 * A MigrationProvider for `new Migrator({ db, provider })` over a whole set (planMigrations,
 * versionedMigrations). Kysely orders migrations by name; set ids sort in order.
 *
 * Kysely runs all pending migrations in one transaction unless the Migrator has
 * `disableTransactions: true`; then each migration here runs in its own transaction, except
 * those that cannot (transactional: false), which need that setting.
 */
export function kyselyMigrationProvider(migrations: readonly Migration[], options: RunOptions = {}): MigrationProvider {
  checkUniqueIds(migrations);
  const byId: Record<string, KyselyMigration> = {};
  for (const migration of migrations) byId[migration.id] = kyselyMigrationFrom(migration, options);
  return { getMigrations: async () => byId };
}

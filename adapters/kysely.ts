import type { Kysely } from 'kysely';
import {
  InvalidOptionError,
  migrationOf,
  runMigration,
  type Migration,
  type Part,
  type RunOptions,
} from 'pg-sync-link';
import { checkUniqueIds, kyselyRunner } from './shared/runner-core.js';

// biome-ignore lint/suspicious/noExplicitAny: Kysely's database type is the user's; the adapter runs raw SQL only
type AnyKysely = Kysely<any>;

/**
 * The shape of Kysely's `Migration`, written out here because Kysely 0.29 moved the type from
 * `kysely` to `kysely/migration`: it fits Kysely 0.28 and 0.29 alike.
 */
export interface KyselyMigrationShape {
  /** Applies the migration. */
  up(db: AnyKysely): Promise<void>;
  /** Reverts it. */
  down?(db: AnyKysely): Promise<void>;
}

/** The shape of Kysely's `MigrationProvider` (0.28 and 0.29), for `new Migrator({ db, provider })`. */
export interface KyselyMigrationProviderShape {
  /** Every migration by its id, which Kysely sorts by name. */
  getMigrations(): Promise<Record<string, KyselyMigrationShape>>;
}

/** A Kysely Migration that also carries the pg-sync-link migration it runs (for `npx pg-sync-link sql`). */
export interface KyselySyncMigration extends KyselyMigrationShape {
  /** Reverts it (every pg-sync-link migration has a down). */
  down(db: AnyKysely): Promise<void>;
  /** The migration it runs, for `npx pg-sync-link sql <file>`. */
  readonly pgSyncLink: Migration;
}

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
export function kyselyMigrationProvider(
  migrations: readonly Migration[],
  options: RunOptions = {},
): KyselyMigrationProviderShape {
  checkUniqueIds(migrations);
  const byId: Record<string, KyselyMigrationShape> = {};
  for (const migration of migrations) byId[migration.id] = kyselyMigrationFrom(migration, options);
  return { getMigrations: async () => byId };
}

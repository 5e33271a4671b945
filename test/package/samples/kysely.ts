// A Kysely migration file, and a Migrator over a whole set (Migrator's module differs by Kysely version).
import { Kysely, PostgresDialect } from 'kysely';
import { Migrator, type Migration, type MigrationProvider } from '__KYSELY_MIGRATION_MODULE__';
import pg from 'pg';
import { env, fdwLink, planMigrations } from 'pg-sync-link';
import { kyselyMigration, kyselyMigrationProvider } from 'pg-sync-link/kysely';

const link = fdwLink({
  name: 'legacy',
  host: env('LEGACY_HOST'),
  port: 5432,
  dbname: 'legacy',
  userMappings: [{ user: 'sync', password: env('LEGACY_PASSWORD') }],
});

export const { up, down } = kyselyMigration(link);

const asKyselyMigration: Migration = kyselyMigration(link);
const asProvider: MigrationProvider = kyselyMigrationProvider(planMigrations('app', link));

export async function migrate(url: string): Promise<string[]> {
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url }) }) });
  const migrator = new Migrator({
    db,
    provider: kyselyMigrationProvider(planMigrations('app', link)),
    disableTransactions: true,
  });
  const { error, results } = await migrator.migrateToLatest();
  await db.destroy();
  if (error) throw error;
  return [
    asKyselyMigration.up.name,
    typeof asProvider.getMigrations,
    ...(results ?? []).map((result) => result.migrationName),
  ];
}

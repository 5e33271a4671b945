// A Knex migration file and a knexfile with a migration source, as an app writes them.
import type { Knex } from 'knex';
import { env, fdwLink, planMigrations } from 'pg-sync-link';
import { knexMigration, knexMigrationSource } from 'pg-sync-link/knex';

const link = fdwLink({
  name: 'legacy',
  host: env('LEGACY_HOST'),
  port: 5432,
  dbname: 'legacy',
  userMappings: [{ user: 'sync', password: env('LEGACY_PASSWORD') }],
});

export const { up, down, config } = knexMigration(link);

const migration: Knex.Migration = { up, down };
export const transactional: boolean = config.transaction && typeof migration.up === 'function';

export const knexConfig: Knex.Config = {
  client: 'pg',
  connection: process.env.DATABASE_URL,
  migrations: { migrationSource: knexMigrationSource(planMigrations('app', link)) },
};

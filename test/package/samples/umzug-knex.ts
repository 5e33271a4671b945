// Umzug with a Knex instance as its context (Umzug calls a function context, so pass a factory).
import { knex } from 'knex';
import { Umzug } from 'umzug';
import { env, fdwLink, planMigrations } from 'pg-sync-link';
import { umzugMigrations, umzugStorage } from 'pg-sync-link/umzug';

const link = fdwLink({
  name: 'legacy',
  host: env('LEGACY_HOST'),
  port: 5432,
  dbname: 'legacy',
  userMappings: [{ user: 'sync', password: env('LEGACY_PASSWORD') }],
});
const db = knex({ client: 'pg', connection: process.env.DATABASE_URL });

export const umzug = new Umzug({
  migrations: umzugMigrations(planMigrations('app', link)),
  context: () => db,
  storage: umzugStorage(),
  logger: undefined,
});

import { env, fdwLink } from 'pg-sync-link';
import { knexMigration } from 'pg-sync-link/knex';

// A postgres_fdw link from this database to the legacy one. Connection details and the
// password are read from the environment when the migration runs, never written here.
export const { up, down, config } = knexMigration(
  fdwLink({
    name: 'legacy',
    host: env('LEGACY_DB_HOST'),
    port: env('LEGACY_DB_PORT'),
    dbname: env('LEGACY_DB_NAME'),
    options: { fetch_size: 1000, application_name: 'pg-sync-link demo' },
    userMappings: [{ user: env('LEGACY_DB_USER'), password: env('LEGACY_DB_PASSWORD') }],
  }),
);

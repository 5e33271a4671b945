import { env, fdwLink } from 'pg-sync-link';
import { knexMigration } from 'pg-sync-link/knex';

export const { up, down, config } = knexMigration(
  fdwLink({
    name: 'legacy',
    host: env('LEGACY_HOST'),
    port: env('LEGACY_PORT'),
    dbname: env('LEGACY_DB'),
    userMappings: [{ user: env('LEGACY_USER'), password: env('LEGACY_PASSWORD') }],
  }),
);

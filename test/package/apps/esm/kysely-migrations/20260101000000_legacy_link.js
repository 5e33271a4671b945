import { env, fdwLink } from 'pg-sync-link';
import { kyselyMigration } from 'pg-sync-link/kysely';

export const { up, down } = kyselyMigration(
  fdwLink({
    name: 'legacy',
    host: env('LEGACY_HOST'),
    port: env('LEGACY_PORT'),
    dbname: env('LEGACY_DB'),
    userMappings: [{ user: env('LEGACY_USER'), password: env('LEGACY_PASSWORD') }],
  }),
);

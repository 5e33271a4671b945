import { env, fdwLink } from 'pg-sync-link';
import { knexMigration } from 'pg-sync-link/knex';

// The link from app to legacy, as the least-privileged role sync_from_app. Where legacy is and
// the role's password are read from the environment when this runs, never written here.
const legacy = fdwLink({
  name: 'legacy',
  host: env('LEGACY_DB_HOST'),
  port: env('LEGACY_DB_PORT'),
  dbname: env('LEGACY_DB_NAME'),
  // A write through the link that waits on a lock gives up after 2 s instead of hanging on a
  // deadlock across the two servers, which neither server can see.
  remoteSettings: { lock_timeout: '2s' },
  userMappings: [{ user: 'sync_from_app', password: env('LEGACY_DB_PASSWORD') }],
});

export const { up, down, config } = knexMigration(
  legacy,
  legacy.foreignTable({
    name: 'legacy_products',
    remote: { name: 'products' },
    columns: [
      { name: 'id', type: 'bigint', notNull: true },
      { name: 'name', type: 'varchar(255)', notNull: true },
      { name: 'description', type: 'text' },
      { name: 'price', type: 'integer' },
      { name: 'created_at', type: 'timestamp without time zone', notNull: true },
      { name: 'updated_at', type: 'timestamp without time zone', notNull: true },
    ],
  }),
);

import { env, fdwLink, syncTrigger } from 'pg-sync-link';
import { knexMigration } from 'pg-sync-link/knex';

// The way back: legacy's changes to products go to app, as the role sync_from_legacy, except
// the ones app's sync made here. Needs app's endpoint (app's migrations) to exist first.
export const { up, down, config } = knexMigration(
  fdwLink({
    name: 'app',
    host: env('APP_DB_HOST'),
    port: env('APP_DB_PORT'),
    dbname: env('APP_DB_NAME'),
    remoteSettings: { lock_timeout: '2s' },
    userMappings: [{ user: 'sync_from_legacy', password: env('APP_DB_PASSWORD') }],
  }),
  syncTrigger({
    server: 'app',
    table: 'products',
    key: ['id'],
    columns: ['id', 'name', 'description', 'price', 'created_at', 'updated_at'],
    ignoreWritesBy: { role: 'sync_from_app' },
  }),
);

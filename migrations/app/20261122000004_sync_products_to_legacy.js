import { syncTrigger } from 'pg-sync-link';
import { knexMigration } from 'pg-sync-link/knex';

// Every insert, update and delete on app's products goes to legacy, except the ones legacy's
// own sync made here (as sync_from_legacy): those would only travel back.
export const { up, down, config } = knexMigration(
  syncTrigger({
    server: 'legacy',
    table: 'products',
    key: ['id'],
    columns: ['id', 'name', 'description', 'price', 'created_at', 'updated_at'],
    ignoreWritesBy: { role: 'sync_from_legacy' },
  }),
);

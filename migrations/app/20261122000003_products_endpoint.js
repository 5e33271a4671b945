import { syncEndpoint } from 'pg-sync-link';
import { knexMigration } from 'pg-sync-link/knex';

// Where legacy's changes to products arrive. Its sync role may insert here and nothing else.
export const { up, down, config } = knexMigration(
  syncEndpoint({
    table: 'products',
    key: ['id'],
    columns: ['id', 'name', 'description', 'price', 'created_at', 'updated_at'],
    grantTo: 'sync_from_legacy',
  }),
);

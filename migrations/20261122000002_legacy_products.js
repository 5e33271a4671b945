import { foreignTable } from 'pg-sync-link';
import { knexMigration } from 'pg-sync-link/knex';

// The legacy products table, readable and writable here as legacy_products.
export const { up, down, config } = knexMigration(
  foreignTable({
    server: 'legacy',
    name: 'legacy_products',
    remote: { schema: 'public', name: 'products' },
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

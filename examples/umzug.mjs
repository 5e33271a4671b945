// Umzug: a one-way sync of app.orders to legacy.orders, with a pg Pool as the context and the
// migration log kept in each database itself (umzugStorage).
import pg from 'pg';
import { env, fdwLink, planMigrations, syncEndpoint, syncTrigger } from 'pg-sync-link';
import { umzugMigrations, umzugStorage } from 'pg-sync-link/umzug';
import { Umzug } from 'umzug';
import { startServer } from './support/embedded-server.mjs';

const COLUMNS = ['id', 'customer', 'total_cents', 'placed_at'];
const [legacy, app] = await Promise.all([startServer('legacy'), startServer('app')]);
const pools = [new pg.Pool({ connectionString: legacy.url }), new pg.Pool({ connectionString: app.url })];
// An idle connection ended by a server's shutdown must not crash the example as it exits.
for (const pool of pools) pool.on('error', () => {});
try {
  for (const server of [legacy, app]) {
    await server.client.query(
      'CREATE TABLE orders (id bigint PRIMARY KEY, customer text NOT NULL, total_cents integer NOT NULL, placed_at timestamptz NOT NULL)',
    );
  }
  process.env.LEGACY_DB_PASSWORD = legacy.password;
  const [legacyPool, appPool] = pools;

  // The receiving side first, then the sending side: each database has its own Umzug.
  const receiving = new Umzug({
    migrations: umzugMigrations(
      planMigrations('orders', syncEndpoint({ table: 'orders', key: ['id'], columns: COLUMNS })),
    ),
    context: legacyPool,
    storage: umzugStorage(),
    logger: undefined,
  });
  const sending = new Umzug({
    migrations: umzugMigrations(
      planMigrations(
        'orders',
        fdwLink({
          name: 'legacy',
          host: legacy.host,
          port: legacy.port,
          dbname: legacy.database,
          userMappings: [{ user: legacy.user, password: env('LEGACY_DB_PASSWORD') }],
        }),
        syncTrigger({ server: 'legacy', table: 'orders', key: ['id'], columns: COLUMNS }),
      ),
    ),
    context: appPool,
    storage: umzugStorage(),
    logger: undefined,
  });
  console.log(`legacy: ${(await receiving.up()).map((migration) => migration.name).join(', ')}`);
  console.log(`app: ${(await sending.up()).map((migration) => migration.name).join(', ')}`);

  await app.client.query(
    `INSERT INTO orders VALUES (1, 'ada', 1250, '2026-11-22T10:00:00Z'), (2, 'grace', 990, '2026-11-22T10:05:00Z')`,
  );
  await app.client.query('UPDATE orders SET total_cents = 1300 WHERE id = 1');
  const { rows } = await legacy.client.query('SELECT id, customer, total_cents FROM orders ORDER BY id');
  console.log(`legacy.orders: ${rows.map((row) => `${row.id} ${row.customer} ${row.total_cents}`).join('; ')}`);
  const log = await app.client.query('SELECT count(*)::int AS n FROM pg_sync_link_umzug');
  console.log(`app's migration log holds ${log.rows[0].n} entries`);

  await sending.down({ to: 0 });
  await receiving.down({ to: 0 });
  console.log('both sides migrated down');
} finally {
  await Promise.all(pools.map((pool) => pool.end()));
  await Promise.all([legacy.stop(), app.stop()]);
}

// Kysely: a link and a foreign table installed by Kysely's Migrator, read with Kysely's query
// builder, then migrated all the way down.
import { Kysely, Migrator, NO_MIGRATIONS, PostgresDialect } from 'kysely';
import pg from 'pg';
import { env, fdwLink, planMigrations } from 'pg-sync-link';
import { kyselyMigrationProvider } from 'pg-sync-link/kysely';
import { startServer } from './support/embedded-server.mjs';

const [legacy, app] = await Promise.all([startServer('legacy'), startServer('app')]);
try {
  await legacy.client.query('CREATE TABLE customers (id bigint PRIMARY KEY, email text NOT NULL)');
  await legacy.client.query(`INSERT INTO customers VALUES (1, 'ada@example.com'), (2, 'grace@example.com')`);
  process.env.LEGACY_DB_PASSWORD = legacy.password;

  const link = fdwLink({
    name: 'legacy',
    host: legacy.host,
    port: legacy.port,
    dbname: legacy.database,
    userMappings: [{ user: legacy.user, password: env('LEGACY_DB_PASSWORD') }],
  });
  const migrations = planMigrations(
    'crm',
    link,
    link.importForeignSchema({ remoteSchema: 'public', into: 'legacy', createSchema: true, limitTo: ['customers'] }),
  );

  const pool = new pg.Pool({ connectionString: app.url });
  // An idle connection ended by the server's shutdown must not crash the example as it exits.
  pool.on('error', () => {});
  /** @type {Kysely<{ 'legacy.customers': { id: string; email: string } }>} */
  const db = new Kysely({ dialect: new PostgresDialect({ pool }) });
  const migrator = new Migrator({ db, provider: kyselyMigrationProvider(migrations) });
  const up = await migrator.migrateToLatest();
  if (up.error) throw up.error;
  for (const result of up.results ?? [])
    console.log(`kysely ${result.direction} ${result.migrationName}: ${result.status}`);

  const customers = await db.selectFrom('legacy.customers').select(['id', 'email']).orderBy('id').execute();
  console.log(`customers read through the link: ${customers.map((customer) => customer.email).join(', ')}`);

  const down = await migrator.migrateTo(NO_MIGRATIONS);
  if (down.error) throw down.error;
  console.log(`migrated down: ${(down.results ?? []).length} migrations`);
  await db.destroy();
} finally {
  await Promise.all([legacy.stop(), app.stop()]);
}

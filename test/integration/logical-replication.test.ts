import knexFactory, { type Knex } from 'knex';
import { Kysely, Migrator, NO_MIGRATIONS, PostgresDialect } from 'kysely';
import pg from 'pg';
import { Umzug } from 'umzug';
import { afterEach, expect, it } from 'vitest';
import {
  applySyncLink,
  buildMigration,
  env,
  planMigrations,
  publication,
  removeSyncLink,
  replicationSlot,
  sqlExpression,
  subscription,
  type SubscriptionOptions,
} from '../../src/index.js';
import { knexMigration, type KnexMigrationModule } from '../../adapters/knex.js';
import { kyselyMigrationProvider } from '../../adapters/kysely.js';
import { umzugMigrations, umzugStorage } from '../../adapters/umzug.js';
import { catalogSnapshot } from '../harness/catalog.js';
import { LOGICAL_REPLICATION, slotNames, tableRows, uniqueSlot, waitFor } from '../harness/replication.js';
import { connectionString } from '../harness/server.js';
import { useServers } from '../harness/suite.js';

const PASSWORD_VARIABLE = 'PG_SYNC_LINK_REPLICATION_PASSWORD';
const servers = useServers(
  'repl',
  async ({ legacy, app, pair }) => {
    process.env[PASSWORD_VARIABLE] = pair.legacy.password;
    for (const client of [legacy, app])
      await client.query('CREATE TABLE products (id integer PRIMARY KEY, name text NOT NULL, price integer)');
    await legacy.query(`INSERT INTO products VALUES (1, 'lamp', 30), (2, 'desk', 120)`);
  },
  // Its own pair: it turns statement logging on with ALTER SYSTEM and reads the whole server log.
  { ...LOGICAL_REPLICATION, private: true },
);

const knexes: Knex[] = [];
afterEach(async () => {
  await Promise.all(knexes.splice(0).map((knex) => knex.destroy()));
});

function subscriptionTo(slot: string, extra: Partial<SubscriptionOptions> = {}) {
  const { pair, names } = servers;
  return subscription({
    name: 'products_sub',
    host: pair.legacy.peerHost,
    port: pair.legacy.peerPort,
    dbname: names.legacy,
    user: pair.legacy.user,
    password: env(PASSWORD_VARIABLE),
    publications: ['products_pub'],
    slotName: slot,
    ...extra,
  });
}

function knexOn(side: 'legacy' | 'app'): Knex {
  const knex = knexFactory({ client: 'pg', connection: connectionString(servers.pair[side], servers.names[side]) });
  knexes.push(knex);
  return knex;
}

function source(migrations: Record<string, KnexMigrationModule>): Knex.MigratorConfig {
  return {
    migrationSource: {
      getMigrations: async () => Object.keys(migrations),
      getMigrationName: (name: string) => name,
      getMigration: async (name: string) => migrations[name]!,
    },
  };
}

const products = () => tableRows(servers.app, 'products');
const sameAsPublisher = async () =>
  JSON.stringify(await products()) === JSON.stringify(await tableRows(servers.legacy, 'products'));

it('with Knex on both sides: existing rows are copied, inserts, updates and deletes follow; down removes the subscription and its slot', async () => {
  const { legacy, app } = servers;
  const slot = uniqueSlot('products');
  const before = {
    legacy: await catalogSnapshot(legacy, ['knex_migrations']),
    app: await catalogSnapshot(app, ['knex_migrations']),
  };
  const publisherSide = knexMigration(
    publication({ name: 'products_pub', tables: ['products'] }),
    replicationSlot({ name: slot }),
  );
  const subscriberSide = knexMigration(subscriptionTo(slot));
  // Both hold a statement PostgreSQL refuses in a transaction block: Knex must not open one.
  expect(publisherSide.config).toEqual({ transaction: false });
  expect(subscriberSide.config).toEqual({ transaction: false });

  const legacyKnex = knexOn('legacy');
  const appKnex = knexOn('app');
  await legacyKnex.migrate.latest(source({ '001_publish_products': publisherSide }));
  await appKnex.migrate.latest(source({ '001_subscribe_products': subscriberSide }));

  await waitFor(products, (rows) => rows.length === 2, 'the initial copy');
  await legacy.query(`INSERT INTO products VALUES (3, 'chair', 45)`);
  await legacy.query(`UPDATE products SET price = 35 WHERE id = 1`);
  await legacy.query(`DELETE FROM products WHERE id = 2`);
  await waitFor(sameAsPublisher, Boolean, 'the insert, update and delete');
  expect(await products()).toEqual([
    { id: 1, name: 'lamp', price: 35 },
    { id: 3, name: 'chair', price: 45 },
  ]);
  expect(await slotNames(legacy)).toContain(slot);

  // Subscriber first: DROP SUBSCRIPTION drops the slot through the stored connection.
  await appKnex.migrate.rollback(source({ '001_subscribe_products': subscriberSide }), true);
  expect(await slotNames(legacy)).not.toContain(slot);
  await legacyKnex.migrate.rollback(source({ '001_publish_products': publisherSide }), true);
  expect(await catalogSnapshot(app, ['knex_migrations'])).toEqual(before.app);
  expect(await catalogSnapshot(legacy, ['knex_migrations'])).toEqual(before.legacy);
});

it('with applySyncLink: the password never reaches a statement, the server logs or pg_stat_activity', async () => {
  const { legacy, app, pair } = servers;
  const slot = uniqueSlot('logged');
  const password = pair.legacy.password;
  const before = { legacy: await catalogSnapshot(legacy), app: await catalogSnapshot(app) };
  const sent: string[] = [];
  const log = (line: string) => sent.push(line);
  for (const client of [legacy, app])
    await client.query(`ALTER SYSTEM SET log_statement = 'all'`).then(() => client.query('SELECT pg_reload_conf()'));
  const logStart = { legacy: pair.legacy.log!().length, app: pair.app.log!().length };
  try {
    await applySyncLink(
      legacy,
      [publication({ name: 'products_pub', tables: ['products'] }), replicationSlot({ name: slot })],
      { prefix: 'publisher', log },
    );
    await applySyncLink(connectionString(pair.app, servers.names.app), subscriptionTo(slot), {
      prefix: 'subscriber',
      log,
    });
    await waitFor(products, (rows) => rows.length === 2, 'the initial copy');
    await legacy.query(`UPDATE products SET name = 'lamp, brass' WHERE id = 1`);
    await waitFor(sameAsPublisher, Boolean, 'the update');

    const activity = await Promise.all(
      [legacy, app].map((client) => client.query<{ query: string }>('SELECT query FROM pg_stat_activity')),
    );
    expect(activity.flatMap((result) => result.rows.map((row) => row.query)).join('\n')).not.toContain(password);
    // PostgreSQL keeps the connection string, password included, in its own catalog
    // (pg_subscription.subconninfo, readable by superusers only): that is where it belongs.
    const stored = await app.query<{ subconninfo: string }>(
      `SELECT subconninfo FROM pg_subscription WHERE subname = 'products_sub' AND subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    );
    expect(stored.rows[0]!.subconninfo).toContain(password);

    await removeSyncLink(app, subscriptionTo(slot), { prefix: 'subscriber', log });
    await removeSyncLink(
      legacy,
      [publication({ name: 'products_pub', tables: ['products'] }), replicationSlot({ name: slot })],
      { prefix: 'publisher', log },
    );
  } finally {
    for (const client of [legacy, app])
      await client.query('ALTER SYSTEM RESET log_statement').then(() => client.query('SELECT pg_reload_conf()'));
  }
  const logs = { legacy: pair.legacy.log!().slice(logStart.legacy), app: pair.app.log!().slice(logStart.app) };
  // The log was on: it holds the statements, with the secret's setting name in place of the value.
  expect(logs.app).toContain('CREATE SUBSCRIPTION');
  expect(logs.app).toContain('pg_sync_link.secret_1');
  expect(logs.app).toContain('DROP SUBSCRIPTION');
  expect(logs.app).not.toContain(password);
  expect(logs.legacy).not.toContain(password);
  expect(sent.join('\n')).not.toContain(password);
  expect(sent.join('\n')).toContain(`[redacted connection host=${pair.legacy.peerHost}`);
  expect(await slotNames(legacy)).not.toContain(slot);
  expect(await catalogSnapshot(app)).toEqual(before.app);
  expect(await catalogSnapshot(legacy)).toEqual(before.legacy);
});

it('a column list and a row filter send only those columns of those rows', async () => {
  const { legacy, app } = servers;
  const slot = uniqueSlot('filtered');
  const publisher = buildMigration(
    'publish cheap products',
    publication({
      name: 'products_pub',
      tables: [{ table: 'products', columns: ['id', 'name'], where: sqlExpression('price < 100') }],
      publish: ['insert', 'update', 'delete'],
    }),
    replicationSlot({ name: slot }),
  );
  await applySyncLink(legacy, [publisher]);
  await applySyncLink(app, subscriptionTo(slot));
  await waitFor(products, (rows) => rows.length === 1, 'the filtered copy');
  await legacy.query(`INSERT INTO products VALUES (4, 'shelf', 60), (5, 'sofa', 900)`);
  await waitFor(products, (rows) => rows.length === 2, 'the filtered insert');
  expect(await products()).toEqual([
    { id: 1, name: 'lamp', price: null },
    { id: 4, name: 'shelf', price: null },
  ]);
  await removeSyncLink(app, subscriptionTo(slot));
  await removeSyncLink(legacy, [publisher]);
  expect(await slotNames(legacy)).not.toContain(slot);
});

it('with Umzug on the publisher and Kysely (disableTransactions) on the subscriber, each migration runs outside a transaction', async () => {
  const { legacy, app, pair, names } = servers;
  const slot = uniqueSlot('runners');
  const ignore = ['pg_sync_link_umzug', 'kysely_migration'];
  const before = { legacy: await catalogSnapshot(legacy, ignore), app: await catalogSnapshot(app, ignore) };
  const pool = new pg.Pool({ connectionString: connectionString(pair.legacy, names.legacy) });
  const db = new Kysely<unknown>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: connectionString(pair.app, names.app) }) }),
  });
  try {
    const publisher = planMigrations(
      'publisher',
      publication({ name: 'products_pub', tables: ['products'] }),
      replicationSlot({ name: slot }),
    );
    const umzug = new Umzug({
      migrations: umzugMigrations(publisher),
      context: pool,
      storage: umzugStorage(),
      logger: undefined,
    });
    await umzug.up();
    const migrator = new Migrator({
      db,
      provider: kyselyMigrationProvider(planMigrations('subscriber', subscriptionTo(slot))),
      disableTransactions: true,
    });
    expect((await migrator.migrateToLatest()).error).toBeUndefined();
    await waitFor(products, (rows) => rows.length === 2, 'the initial copy');

    expect((await migrator.migrateTo(NO_MIGRATIONS)).error).toBeUndefined();
    expect(await slotNames(legacy)).not.toContain(slot);
    await umzug.down({ to: 0 });
    expect(await catalogSnapshot(app, ignore)).toEqual(before.app);
    expect(await catalogSnapshot(legacy, ignore)).toEqual(before.legacy);
  } finally {
    await db.destroy();
    await pool.end();
  }
});

import knexFactory, { type Knex } from 'knex';
import type pg from 'pg';
import { afterEach, expect, it } from 'vitest';
import { knexMigrationSource } from '../../adapters/knex.js';
import {
  env,
  fdwLink,
  planMigrations,
  sqlExpression,
  syncEndpoint,
  syncTrigger,
  versionedMigrations,
  type Part,
} from '../../src/index.js';
import { applyInTransaction } from '../harness/apply.js';
import { catalogSnapshot } from '../harness/catalog.js';
import { PRODUCTS_DDL } from '../harness/legacy-fixture.js';
import type { ServerPair } from '../harness/pair.js';
import { connectionString } from '../harness/server.js';
import { useServers } from '../harness/suite.js';

// A side's history as versions, run by Knex through a migration source: each later version is
// one migration whose down restores the version before it exactly.
let pair: ServerPair;
let legacy: pg.Client;
let app: pg.Client;
let legacyDb: string;
let db: Knex;

useServers('versions', async (servers) => {
  ({ pair, legacy, app } = servers);
  legacyDb = servers.names.legacy;
  process.env.VERSIONS_PASSWORD = pair.legacy.password;
  await legacy.query(PRODUCTS_DDL);
  await legacy.query('ALTER TABLE products ADD COLUMN price_label text');
  await app.query(PRODUCTS_DDL);
  // The receiving side has an endpoint for each column set a version sends.
  const endpoint = planMigrations(
    'legacy',
    syncEndpoint({ table: 'products', key: ['id'], columns: ['id', 'name', 'created_at', 'updated_at', 'price'] }),
    syncEndpoint({
      table: 'products',
      key: ['id'],
      columns: ['id', 'name', 'created_at', 'updated_at', 'price', 'description', 'price_label'],
    }),
  );
  for (const migration of endpoint) await applyInTransaction(legacy, migration, 'up');
  db = knexFactory({ client: 'pg', connection: connectionString(pair.app, servers.names.app) });
});
afterEach(async () => {
  await db.destroy();
});

const link = (fetchSize: number) =>
  fdwLink({
    name: 'legacy',
    host: pair.legacy.peerHost,
    port: pair.legacy.peerPort,
    dbname: legacyDb,
    options: { fetch_size: fetchSize },
    userMappings: [{ user: pair.legacy.user, password: env('VERSIONS_PASSWORD') }],
  });
const sync = (columns: Parameters<typeof syncTrigger>[0]['columns']) =>
  syncTrigger({
    server: 'legacy',
    table: 'products',
    key: ['id'],
    columns: ['id', 'name', 'created_at', 'updated_at', ...columns],
  });

const versions = (): { version: string; parts: Part[] }[] => [
  { version: 'v1', parts: [link(100), sync(['price'])] },
  // v2: one more column, and a computed one.
  {
    version: 'v2',
    parts: [
      link(100),
      sync(['price', 'description', { remote: 'price_label', expression: sqlExpression(`src.price || ' EUR'`) }]),
    ],
  },
  // v3: a server option changes (altered in place) and the transform changes.
  {
    version: 'v3',
    parts: [
      link(500),
      sync(['price', 'description', { remote: 'price_label', expression: sqlExpression(`'EUR ' || src.price`) }]),
    ],
  },
];

async function remoteRow(): Promise<unknown> {
  return (await legacy.query('SELECT price, description, price_label FROM products WHERE id = 1')).rows[0];
}

it('each version migrates forward and back exactly, through Knex', async () => {
  const migrations = versionedMigrations('app-sync', versions());
  expect(migrations.map((migration) => migration.id)).toEqual([
    'app-sync/001-link-legacy',
    'app-sync/002-sync-public.products-to-legacy',
    'app-sync/v2',
    'app-sync/v3',
  ]);
  const source = { migrationSource: knexMigrationSource(migrations) };
  const ignore = ['knex_migrations'];

  await db.migrate.up(source);
  await db.migrate.up(source);
  const atV1 = await catalogSnapshot(app, ignore);
  await app.query(`INSERT INTO products VALUES (1, 'kettle', 'steel', 30, now(), now())`);
  expect(await remoteRow()).toEqual({ price: 30, description: null, price_label: null });

  await db.migrate.up(source);
  const atV2 = await catalogSnapshot(app, ignore);
  await app.query(`UPDATE products SET price = 31`);
  expect(await remoteRow()).toEqual({ price: 31, description: 'steel', price_label: '31 EUR' });

  await db.migrate.up(source);
  const { rows } = await app.query(`SELECT srvoptions FROM pg_foreign_server WHERE srvname = 'legacy'`);
  expect(rows[0].srvoptions).toContain('fetch_size=500');
  await app.query(`UPDATE products SET price = 32`);
  expect(await remoteRow()).toEqual({ price: 32, description: 'steel', price_label: 'EUR 32' });

  await db.migrate.down(source);
  expect(await catalogSnapshot(app, ignore)).toEqual(atV2);
  await db.migrate.down(source);
  expect(await catalogSnapshot(app, ignore)).toEqual(atV1);
  await app.query(`UPDATE products SET price = 33, description = 'iron'`);
  expect(await remoteRow()).toEqual({ price: 33, description: 'steel', price_label: 'EUR 32' });
});

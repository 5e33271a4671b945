import knexFactory, { type Knex } from 'knex';
import type pg from 'pg';
import { afterEach, expect, it } from 'vitest';
import { MigrationFailedError } from '../../src/index.js';
import { knexMigration, type KnexMigrationModule } from '../../adapters/knex.js';
import { catalogSnapshot } from '../harness/catalog.js';
import { PRODUCT_COLUMNS, PRODUCT_ROWS, readProducts, seedProducts } from '../harness/legacy-fixture.js';
import type { ServerPair } from '../harness/pair.js';
import { linkTo } from '../harness/links.js';
import { useServers } from '../harness/suite.js';
import { connectionString } from '../harness/server.js';

// Knex in this process, with the migrations handed over as a migration source.
let pair: ServerPair;
let app: pg.Client;
let db: Knex;
let legacyDb: string;

useServers('knexadapter', async (servers) => {
  ({ pair, app } = servers);
  legacyDb = servers.names.legacy;
  await seedProducts(servers.legacy);
  db = knexFactory({ client: 'pg', connection: connectionString(pair.app, servers.names.app) });
  process.env.KNEX_ADAPTER_PASSWORD = pair.legacy.password;
});
afterEach(async () => {
  await db.destroy();
});

function source(migrations: Record<string, KnexMigrationModule>): Knex.MigratorConfig {
  return {
    migrationSource: {
      getMigrations: async () => Object.keys(migrations),
      getMigrationName: (name: string) => name,
      getMigration: async (name: string) => migrations[name]!,
    },
  };
}

function link() {
  return linkTo(pair.legacy, legacyDb, 'KNEX_ADAPTER_PASSWORD');
}

it('runs in a Knex transaction: a failure in a later statement leaves nothing behind', async () => {
  const before = await catalogSnapshot(app, ['knex_migrations']);
  const broken = knexMigration(
    link(),
    link().foreignTable({ name: 'p', remote: { name: 'products' }, columns: PRODUCT_COLUMNS }),
    {
      ...link().foreignTable({ name: 'q', columns: [{ name: 'id', type: 'bigint' }] }),
      server: 'missing_server',
    },
  );
  expect(broken.config).toEqual({ transaction: true });
  const error = await db.migrate.latest(source({ '001_broken': broken })).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(MigrationFailedError);
  const message = (error as Error).message;
  // Knex's "<sql> - " prefix is gone; the message is the server's sentence, the redacted SQL is on .sql.
  expect(message).toBe(
    'Migration "server legacy, user mapping CURRENT_USER on legacy, check of legacy, foreign table p, foreign table q" (up) failed at statement 6 of 6: server "missing_server" does not exist',
  );
  expect((error as MigrationFailedError).sql).toMatch(/^CREATE FOREIGN TABLE q \(/);
  expect(((error as Error).cause as Error).message).toBe('server "missing_server" does not exist');
  expect(message).not.toContain(pair.legacy.password);
  expect(await catalogSnapshot(app, ['knex_migrations'])).toEqual(before);
});

it('migrates up and down through the same module', async () => {
  const before = await catalogSnapshot(app, ['knex_migrations']);
  const migrations = {
    '001_link': knexMigration(link()),
    '002_products': knexMigration(
      link().foreignTable({ name: 'legacy_products', remote: { name: 'products' }, columns: PRODUCT_COLUMNS }),
    ),
  };
  await db.migrate.latest(source(migrations));
  expect(await readProducts(app, { name: 'legacy_products' })).toEqual(PRODUCT_ROWS);
  await db.migrate.rollback(source(migrations), true);
  expect(await catalogSnapshot(app, ['knex_migrations'])).toEqual(before);
});

import knexFactory from 'knex';
import { Kysely, Migrator, PostgresDialect } from 'kysely';
import pg from 'pg';
import { Umzug } from 'umzug';
import { describe, expect, it } from 'vitest';
import { knexMigrationSource } from '../../adapters/knex.js';
import { kyselyMigrationProvider } from '../../adapters/kysely.js';
import { umzugMigrations, umzugStorage } from '../../adapters/umzug.js';
import {
  AlreadyAppliedDifferentlyError,
  applySyncLink,
  buildMigration,
  env,
  fdwLink,
  planMigrations,
  removeSyncLink,
  syncEndpoint,
  syncTrigger,
  type Migration,
  type Part,
} from '../../src/index.js';
import { applyInTransaction } from '../harness/apply.js';
import { catalogSnapshot, type CatalogSnapshot } from '../harness/catalog.js';
import { PRODUCTS_DDL, readProducts } from '../harness/legacy-fixture.js';
import type { ServerPair } from '../harness/pair.js';
import { connect, connectionString } from '../harness/server.js';
import { useServers } from '../harness/suite.js';

// The same link through every runner: each must install exactly the same objects.
const COLUMNS = ['id', 'name', 'description', 'price', 'created_at', 'updated_at'];
// Each runner's own log: Knex's, Kysely's, the Umzug storage's and applySyncLink's schema.
const BOOKKEEPING = ['knex_migrations', 'kysely_migration', 'pg_sync_link_umzug', '"sync_link"'];

let pair: ServerPair;
let legacyDb: string;
let legacy: pg.Client;

useServers('runners', async (servers) => {
  ({ pair, legacy } = servers);
  legacyDb = servers.names.legacy;
  process.env.RUNNERS_PASSWORD = pair.legacy.password;
  await legacy.query(PRODUCTS_DDL);
  await applyInTransaction(
    legacy,
    buildMigration('endpoint', syncEndpoint({ table: 'products', key: ['id'], columns: COLUMNS })),
    'up',
  );
});

function parts(extra: Part[] = []): Part[] {
  const link = fdwLink({
    name: 'legacy',
    host: pair.legacy.peerHost,
    port: pair.legacy.peerPort,
    dbname: legacyDb,
    userMappings: [{ user: pair.legacy.user, password: env('RUNNERS_PASSWORD') }],
  });
  return [
    link,
    link.foreignTable({
      name: 'legacy_products',
      remote: { name: 'products' },
      columns: COLUMNS.map((name) => ({ name, type: 'text' })),
    }),
    syncTrigger({ server: 'legacy', table: 'products', key: ['id'], columns: COLUMNS }),
    ...extra,
  ];
}

async function appDatabase(): Promise<{ url: string; client: pg.Client }> {
  const { app } = await pair.freshDatabases('runner');
  const client = await connect(pair.app, app);
  await client.query(PRODUCTS_DDL);
  return { url: connectionString(pair.app, app), client };
}

/** Applies, snapshots, checks a synced insert, rolls back, and checks the catalog is as before. */
async function roundTrip(
  install: (url: string, migrations: readonly Migration[]) => Promise<() => Promise<void>>,
): Promise<CatalogSnapshot> {
  const { url, client } = await appDatabase();
  try {
    const before = await catalogSnapshot(client, BOOKKEEPING);
    const uninstall = await install(url, planMigrations('runner', ...parts()));
    const installed = await catalogSnapshot(client, BOOKKEEPING);
    await client.query(`INSERT INTO products VALUES (1, 'x', NULL, 1, '2020-01-01', '2020-01-01')`);
    expect(await readProducts(legacy, { name: 'products' })).toEqual(await readProducts(client, { name: 'products' }));
    await legacy.query('DELETE FROM products');
    await uninstall();
    expect(await catalogSnapshot(client, BOOKKEEPING)).toEqual(before);
    return installed;
  } finally {
    await client.end();
  }
}

const RUNNERS: Record<string, (url: string, migrations: readonly Migration[]) => Promise<() => Promise<void>>> = {
  knex: async (url, migrations) => {
    const db = knexFactory({ client: 'pg', connection: url });
    const config = { migrationSource: knexMigrationSource(migrations) };
    await db.migrate.latest(config);
    return async () => {
      await db.migrate.rollback(config, true);
      await db.destroy();
    };
  },
  kysely: async (url, migrations) => {
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url }) }) });
    const migrator = new Migrator({ db, provider: kyselyMigrationProvider(migrations) });
    const { error } = await migrator.migrateToLatest();
    if (error) throw error;
    return async () => {
      const { NO_MIGRATIONS } = await import('kysely');
      const result = await migrator.migrateTo(NO_MIGRATIONS);
      await db.destroy();
      if (result.error) throw result.error;
    };
  },
  umzug: async (url, migrations) => {
    const pool = new pg.Pool({ connectionString: url });
    const umzug = new Umzug({
      migrations: umzugMigrations(migrations),
      context: pool,
      storage: umzugStorage(),
      logger: undefined,
    });
    await umzug.up();
    return async () => {
      await umzug.down({ to: 0 });
      await pool.end();
    };
  },
  'umzug with a Knex context': async (url, migrations) => {
    const db = knexFactory({ client: 'pg', connection: url });
    // A Knex instance is a function, which Umzug would call as a context factory: hand it over from one.
    const umzug = new Umzug({
      migrations: umzugMigrations(migrations),
      context: () => db,
      storage: umzugStorage(),
      logger: undefined,
    });
    await umzug.up();
    return async () => {
      await umzug.down({ to: 0 });
      await db.destroy();
    };
  },
  'umzug with a Kysely context': async (url, migrations) => {
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url }) }) });
    const umzug = new Umzug({
      migrations: umzugMigrations(migrations),
      context: db,
      storage: umzugStorage(),
      logger: undefined,
    });
    await umzug.up();
    return async () => {
      await umzug.down({ to: 0 });
      await db.destroy();
    };
  },
  'umzug with a pg Client context': async (url, migrations) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const umzug = new Umzug({
      migrations: umzugMigrations(migrations),
      context: client,
      storage: umzugStorage(),
      logger: undefined,
    });
    await umzug.up();
    return async () => {
      await umzug.down({ to: 0 });
      await client.end();
    };
  },
  applySyncLink: async (url, migrations) => {
    await applySyncLink(url, migrations);
    return async () => {
      await removeSyncLink(url, migrations);
    };
  },
};

describe('every runner', () => {
  it('installs the same objects, syncs, and removes them exactly', async () => {
    const installed: Record<string, CatalogSnapshot> = {};
    for (const [name, install] of Object.entries(RUNNERS)) installed[name] = await roundTrip(install);
    // Bookkeeping aside (left out of every snapshot), the four catalogs are identical.
    for (const name of Object.keys(RUNNERS)) expect(installed[name], name).toEqual(installed.knex);
  });
});

describe('applySyncLink', () => {
  it('is idempotent, takes a Client, a Pool or a URL, and removes exactly what it applied', async () => {
    const { url, client } = await appDatabase();
    const pool = new pg.Pool({ connectionString: url });
    try {
      const before = await catalogSnapshot(client);
      const first = await applySyncLink(client, parts());
      expect(first.applied).toEqual([
        'sync-link/001-link-legacy',
        'sync-link/002-foreign-table-default.legacy_products',
        'sync-link/003-sync-public.products-to-legacy',
      ]);
      const installed = await catalogSnapshot(client);
      expect(await applySyncLink(pool, parts())).toEqual({ applied: [], skipped: first.applied });
      expect(await catalogSnapshot(client)).toEqual(installed);
      // A changed spec is not re-applied silently.
      const changed = [
        ...parts().slice(0, 2),
        syncTrigger({ server: 'legacy', table: 'products', key: ['id'], columns: ['id', 'name'] }),
      ];
      await expect(applySyncLink(url, changed)).rejects.toThrow(AlreadyAppliedDifferentlyError);
      expect(await removeSyncLink(url, parts())).toEqual({ removed: [...first.applied].reverse() });
      expect(await catalogSnapshot(client)).toEqual(before);
      expect(await removeSyncLink(pool, parts())).toEqual({ removed: [] });
    } finally {
      await pool.end();
      await client.end();
    }
  });
});

describe('Kysely', () => {
  it('refuses a migration that cannot run in a transaction unless the Migrator disables them', async () => {
    const { url, client } = await appDatabase();
    await client.end();
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url }) }) });
    try {
      const outside: Migration = { ...buildMigration('outside', parts()[0]!), id: 'outside', transactional: false };
      const strict = await new Migrator({ db, provider: kyselyMigrationProvider([outside]) }).migrateToLatest();
      expect(strict.error).toBeInstanceOf(Error);
      expect((strict.error as Error).message).toMatch(
        /cannot run in a transaction: create the Migrator with disableTransactions: true/,
      );
      const relaxed = await new Migrator({
        db,
        provider: kyselyMigrationProvider([outside]),
        disableTransactions: true,
      }).migrateToLatest();
      expect(relaxed.error).toBeUndefined();
    } finally {
      await db.destroy();
    }
  });
});

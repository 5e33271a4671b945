import { Kysely, Migrator, NO_MIGRATIONS, PostgresDialect } from 'kysely';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { kyselyMigrationProvider } from '../../adapters/kysely.js';
import {
  buildMigration,
  changeFeed,
  env,
  fdwLink,
  interleavedIds,
  publication,
  runMigration,
  sharedIds,
  sharedIdSource,
  sqlExpression,
  syncEndpoint,
  syncRole,
  syncTrigger,
  type Migration,
} from '../../src/index.js';
import { applyInTransaction } from '../harness/apply.js';
import { catalogSnapshot } from '../harness/catalog.js';
import type { ServerPair } from '../harness/pair.js';
import { connectionString } from '../harness/server.js';
import { useServers } from '../harness/suite.js';

// A migration runs inside the runner's transaction, which goes on to record it (Knex's
// knex_migrations, Kysely's kysely_migration) by unqualified name: no migration may leave a
// setting changed for the rest of that transaction.
const CALLER_PATH = 'runner_schema, public';

let pair: ServerPair;
let legacy: pg.Client;
let app: pg.Client;
let names: { legacy: string; app: string };

useServers('settings', async (servers) => {
  ({ pair, legacy, app, names } = servers);
  process.env.SETTINGS_LEGACY_PASSWORD = pair.legacy.password;
  process.env.SETTINGS_ROLE_PASSWORD = 'role-password';
  for (const client of [legacy, app]) {
    await client.query(`CREATE SCHEMA runner_schema; CREATE TABLE runner_schema.runner_log (name text);
      CREATE TABLE products (id bigserial PRIMARY KEY, name text); CREATE TABLE things (id bigserial PRIMARY KEY, name text);
      CREATE TABLE orders (id bigint PRIMARY KEY, name text); CREATE TABLE notes (id bigint PRIMARY KEY, name text);
      CREATE TABLE copies (id bigint PRIMARY KEY, label text); CREATE TABLE counted (id bigserial PRIMARY KEY)`);
  }
});

const link = () =>
  fdwLink({
    name: 'legacy',
    host: pair.legacy.peerHost,
    port: pair.legacy.peerPort,
    dbname: names.legacy,
    options: { application_name: 'settings test' },
    remoteSettings: { lock_timeout: '2s' },
    userMappings: [{ user: pair.legacy.user, password: env('SETTINGS_LEGACY_PASSWORD') }],
  });

const sync = (table: string, extra: Record<string, unknown> = {}) =>
  syncTrigger({ server: 'legacy', table, key: ['id'], columns: ['id', 'name'], ...extra });

/** Every kind the legacy side installs: role, endpoints, id sources (both strategies), a publication. */
const legacySide = () =>
  buildMigration(
    'legacy side',
    syncRole({ name: `settings_role_${names.legacy}`.slice(0, 63), password: env('SETTINGS_ROLE_PASSWORD') }),
    ...['products', 'things', 'orders', 'notes'].map((table) =>
      syncEndpoint({ table, key: ['id'], columns: ['id', 'name'] }),
    ),
    sharedIdSource({ table: 'products', column: 'id', strategy: 'block', blockSize: 10, blockBase: 1000 }),
    sharedIdSource({ table: 'things', column: 'id', strategy: 'per-row' }),
    publication({ name: 'settings_pub', tables: ['products'] }),
  );

/** Every kind the app side installs: link, foreign table, import, each sync mode, ids, feed, same-database sync. */
const appSide = () => {
  const made = link();
  return buildMigration(
    'app side',
    made,
    made.foreignTable({
      name: 'legacy_products',
      remote: { name: 'products' },
      columns: [
        { name: 'id', type: 'bigint' },
        { name: 'name', type: 'text' },
      ],
    }),
    made.importForeignSchema({
      remoteSchema: 'public',
      into: 'legacy_import',
      createSchema: true,
      limitTo: ['orders'],
    }),
    sync('products'),
    sync('orders', { timing: 'commit' }),
    sync('notes', { delivery: 'outbox' }),
    sharedIds({ server: 'legacy', table: 'products', column: 'id', strategy: 'block' }),
    sharedIds({ server: 'legacy', table: 'things', column: 'id', strategy: 'per-row' }),
    interleavedIds({ table: 'counted', column: 'id', slot: 0, of: 2 }),
    changeFeed({ table: 'orders', key: ['id'] }),
    syncTrigger({
      table: 'notes',
      target: 'copies',
      key: ['id'],
      columns: ['id', { remote: 'label', expression: sqlExpression(`upper(src.name)`) }],
    }),
  );
};

/**
 * Every setting the session can see, but the library's own placeholders (checked to hold no
 * value) and a module's settings that appear at their defaults when it is first loaded.
 */
async function settings(client: pg.Client): Promise<Record<string, string>> {
  const { rows } = await client.query<{ name: string; setting: string; boot_val: string | null }>(
    `SELECT name, setting, boot_val FROM pg_catalog.pg_settings ORDER BY name`,
  );
  const all: Record<string, string> = {};
  for (const row of rows) {
    if (row.name.startsWith('pg_sync_link.')) expect(row.setting, row.name).toBe('');
    else if (!/^(plpgsql|postgres_fdw)\./.test(row.name) || row.setting !== (row.boot_val ?? ''))
      all[row.name] = row.setting;
  }
  return all;
}

async function run(client: pg.Client, migration: Migration, direction: 'up' | 'down'): Promise<void> {
  await runMigration(migration, direction, async (text, values) => {
    await client.query(text, [...values]);
  });
}

describe('every migration kind leaves the session settings as they were', () => {
  it('up and down of every kind, inside one transaction each, on both sides', async () => {
    const before = { legacy: await catalogSnapshot(legacy), app: await catalogSnapshot(app) };
    for (const client of [legacy, app]) await client.query(`SET search_path = ${CALLER_PATH}`);

    await legacy.query('BEGIN');
    const legacyBefore = await settings(legacy);
    await run(legacy, legacySide(), 'up');
    expect(await settings(legacy)).toEqual(legacyBefore);
    await legacy.query(`INSERT INTO runner_log VALUES ('legacy side')`);
    await legacy.query('COMMIT');

    await app.query('BEGIN');
    const appBefore = await settings(app);
    await run(app, appSide(), 'up');
    expect(await settings(app)).toEqual(appBefore);
    // The table a runner records its migration in resolves by the caller's search_path.
    await app.query(`INSERT INTO runner_log VALUES ('app side')`);
    // A write through the same-database sync's trigger, which sets its own marker and search_path.
    await app.query(`INSERT INTO notes VALUES (1, 'note')`);
    await app.query(`SELECT * FROM notes__drain_legacy()`);
    expect(await settings(app)).toEqual(appBefore);
    await run(app, appSide(), 'down');
    expect(await settings(app)).toEqual(appBefore);
    await app.query(`DELETE FROM runner_log`);
    await app.query('COMMIT');

    await legacy.query('BEGIN');
    await run(legacy, legacySide(), 'down');
    expect(await settings(legacy)).toEqual(legacyBefore);
    await legacy.query(`DELETE FROM runner_log`);
    await legacy.query('COMMIT');

    for (const client of [legacy, app]) await client.query('RESET search_path');
    await app.query('DELETE FROM notes; DELETE FROM copies');
    await legacy.query('DELETE FROM notes');
    expect(await catalogSnapshot(legacy)).toEqual(before.legacy);
    expect(await catalogSnapshot(app)).toEqual(before.app);
  });

  it("Kysely's Migrator records shared-ids migrations (block and per-row) up and down", async () => {
    await applyInTransaction(legacy, legacySide(), 'up');
    const before = await catalogSnapshot(app, ['kysely_migration', 'kysely_migration_lock']);
    const migrations = [
      buildMigration('001 link', link()),
      buildMigration(
        '002 block ids',
        sharedIds({ server: 'legacy', table: 'products', column: 'id', strategy: 'block' }),
      ),
      buildMigration(
        '003 per-row ids',
        sharedIds({ server: 'legacy', table: 'things', column: 'id', strategy: 'per-row' }),
      ),
    ];
    const db = new Kysely<unknown>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: connectionString(pair.app, names.app) }) }),
    });
    try {
      const migrator = new Migrator({ db, provider: kyselyMigrationProvider(migrations) });
      const up = await migrator.migrateToLatest();
      expect(up.error).toBeUndefined();
      expect(up.results?.map((result) => result.status)).toEqual(['Success', 'Success', 'Success']);
      await app.query(
        `INSERT INTO products (name) VALUES ('from a shared block'); INSERT INTO things (name) VALUES ('from the remote sequence')`,
      );
      expect((await app.query('SELECT id::int FROM products')).rows[0].id).toBeGreaterThanOrEqual(1000);
      const down = await migrator.migrateTo(NO_MIGRATIONS);
      expect(down.error).toBeUndefined();
      expect(down.results?.map((result) => result.status)).toEqual(['Success', 'Success', 'Success']);
    } finally {
      await db.destroy();
    }
    await app.query('DELETE FROM products; DELETE FROM things');
    expect(await catalogSnapshot(app, ['kysely_migration', 'kysely_migration_lock'])).toEqual(before);
  });
});

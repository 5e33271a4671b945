import { Kysely, Migrator, NO_MIGRATIONS, PostgresDialect } from 'kysely';
import pg from 'pg';
import { expect, it } from 'vitest';
import { kyselyMigrationProvider } from '../../adapters/kysely.js';
import {
  drainOutbox,
  env,
  fdwLink,
  listConflicts,
  planMigrations,
  syncEndpoint,
  syncTrigger,
  type ConflictPolicyOptions,
} from '../../src/index.js';
import { catalogSnapshot } from '../harness/catalog.js';
import type { ServerPair } from '../harness/pair.js';
import { connectionString, type PgServer } from '../harness/server.js';
import { loginRole, ROLE_PASSWORD, uniqueRole } from '../harness/roles.js';
import { useServers } from '../harness/suite.js';

// A two-way outbox with a conflict policy, installed on both databases by a real runner
// (Kysely's Migrator): the endpoints first on both sides, then the senders; rolled back, both
// catalogs are exactly as before.
const COLUMNS = ['id', 'status', 'updated_at'];
const ORDERS_DDL = 'CREATE TABLE orders (id bigint PRIMARY KEY, status text NOT NULL, updated_at timestamptz NOT NULL)';
const policy = { latest: 'updated_at', ties: 'legacy' };

let pair: ServerPair;
let legacy: pg.Client;
let app: pg.Client;
let names: { legacy: string; app: string };
// The role each side's deliveries write as on the other side; roles are the whole server's.
const fromApp = uniqueRole('sync_from_app');
const fromLegacy = uniqueRole('sync_from_legacy');

useServers('runner2way', async (servers) => {
  ({ pair, legacy, app, names } = servers);
  process.env.RUNNER_TWO_WAY_PASSWORD = ROLE_PASSWORD;
  for (const [client, role] of [
    [legacy, fromApp],
    [app, fromLegacy],
  ] as const) {
    await loginRole(client, role);
    await client.query(ORDERS_DDL);
  }
});

/** This side's outbox sync to `server`; `incoming` is the role the other side delivers as. */
function sender(server: 'app' | 'legacy', incoming: string) {
  return syncTrigger({
    server,
    table: 'orders',
    key: ['id'],
    columns: COLUMNS,
    delivery: 'outbox',
    ignoreWritesBy: { role: incoming },
    conflicts: { thisSide: server === 'app' ? 'legacy' : 'app', ...policy } as ConflictPolicyOptions,
  });
}

function side(other: PgServer, database: string, server: 'app' | 'legacy', outgoing: string, incoming: string) {
  const link = fdwLink({
    name: server,
    host: other.peerHost,
    port: other.peerPort,
    dbname: database,
    userMappings: [{ user: outgoing, password: env('RUNNER_TWO_WAY_PASSWORD') }],
  });
  const endpoint = syncEndpoint({ table: 'orders', key: ['id'], columns: COLUMNS, grantTo: incoming });
  return {
    sync: sender(server, incoming),
    migrations: planMigrations(`orders-${server}`, endpoint, link, sender(server, incoming)),
  };
}

function migrator(url: string, migrations: ReturnType<typeof planMigrations>) {
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url }) }) });
  return { db, migrator: new Migrator({ db, provider: kyselyMigrationProvider(migrations) }) };
}

async function ok(result: Promise<{ error?: unknown }>): Promise<void> {
  const { error } = await result;
  if (error) throw error;
}

it('Kysely installs a two-way outbox with a conflict policy on both sides, converges, and rolls back exactly', async () => {
  const appSide = side(pair.legacy, names.legacy, 'legacy', fromApp, fromLegacy);
  const legacySide = side(pair.app, names.app, 'app', fromLegacy, fromApp);
  // The endpoint is the first migration of each plan: both endpoints, then both senders.
  expect(appSide.migrations[0]?.id).toMatch(/endpoint/);
  expect(legacySide.migrations[0]?.id).toMatch(/endpoint/);
  const ignore = ['kysely_migration', 'kysely_migration_lock'];
  const before = { app: await catalogSnapshot(app, ignore), legacy: await catalogSnapshot(legacy, ignore) };
  const onApp = migrator(connectionString(pair.app, names.app), appSide.migrations);
  const onLegacy = migrator(connectionString(pair.legacy, names.legacy), legacySide.migrations);
  try {
    await ok(onApp.migrator.migrateTo(appSide.migrations[0]?.id ?? ''));
    await ok(onLegacy.migrator.migrateTo(legacySide.migrations[0]?.id ?? ''));
    await ok(onApp.migrator.migrateToLatest());
    await ok(onLegacy.migrator.migrateToLatest());

    await app.query(`INSERT INTO orders VALUES (1, 'new', '2030-01-01 10:00+00'), (2, 'new', '2030-01-01 10:00+00')`);
    expect((await drainOutbox(app, appSide.sync)).delivered).toBe(2);
    // Both sides change order 1 between drains: legacy's later updated_at wins on both sides.
    await legacy.query(`UPDATE orders SET status = 'shipped', updated_at = '2030-01-01 10:05+00' WHERE id = 1`);
    await app.query(`UPDATE orders SET status = 'cancelled', updated_at = '2030-01-01 10:02+00' WHERE id = 1`);
    await app.query(`UPDATE orders SET status = 'paid', updated_at = '2030-01-01 10:03+00' WHERE id = 2`);
    expect((await drainOutbox(app, appSide.sync)).error).toBeNull();
    expect((await drainOutbox(legacy, legacySide.sync)).error).toBeNull();
    const read = async (client: pg.Client) =>
      (await client.query('SELECT id::int, status FROM orders ORDER BY id')).rows;
    const expected = [
      { id: 1, status: 'shipped' },
      { id: 2, status: 'paid' },
    ];
    expect(await read(app)).toEqual(expected);
    expect(await read(legacy)).toEqual(expected);
    // A second round has nothing to deliver: nothing travels back.
    expect((await drainOutbox(app, appSide.sync)).delivered).toBe(0);
    expect((await drainOutbox(legacy, legacySide.sync)).delivered).toBe(0);
    expect(await listConflicts(app)).toEqual([]);
    const conflicts = await listConflicts(legacy);
    expect(conflicts.map(({ key, winner, policy }) => ({ key, winner, policy }))).toEqual([
      { key: { id: 1 }, winner: 'legacy', policy: 'latest updated_at, ties to legacy' },
    ]);

    // Down refuses while an outbox holds changes: deliver the deletes first.
    await app.query('DELETE FROM orders');
    expect((await drainOutbox(app, appSide.sync)).delivered).toBe(2);
    expect((await drainOutbox(legacy, legacySide.sync)).delivered).toBe(0);
    expect(await read(legacy)).toEqual([]);
    await ok(onLegacy.migrator.migrateTo(NO_MIGRATIONS));
    await ok(onApp.migrator.migrateTo(NO_MIGRATIONS));
    expect(await catalogSnapshot(app, ignore)).toEqual(before.app);
    expect(await catalogSnapshot(legacy, ignore)).toEqual(before.legacy);
    // Down revoked every grant, so the roles drop (roles outlive the test's databases).
    await legacy.query(`DROP ROLE IF EXISTS ${fromApp}`);
    await app.query(`DROP ROLE IF EXISTS ${fromLegacy}`);
  } finally {
    await onApp.db.destroy();
    await onLegacy.db.destroy();
  }
});

import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { Umzug } from 'umzug';
import { expect, it } from 'vitest';
import { umzugMigrations, umzugStorage } from '../../adapters/umzug.js';
import {
  changeFeed,
  drainOutbox,
  env,
  fdwLink,
  listenToChanges,
  planMigrations,
  syncEndpoint,
  syncTrigger,
  type ChangeEvent,
  type ChangeListener,
  type Migration,
} from '../../src/index.js';
import { catalogSnapshot } from '../harness/catalog.js';
import type { ServerPair } from '../harness/pair.js';
import { connectionString } from '../harness/server.js';
import { useServers } from '../harness/suite.js';

// Umzug installs the newer kinds together: on app an outbox sync to legacy and a change feed
// of the same table; on legacy the endpoint and a change feed that must see what the drain
// delivers. Umzug's down then leaves both catalogs exactly as before.
const COLUMNS = ['id', 'status'];
const ORDERS_DDL = 'CREATE TABLE orders (id bigint PRIMARY KEY, status text NOT NULL)';
// Umzug's log table (umzugStorage's default): the runner's own, not ours to undo.
const IGNORE = ['pg_sync_link_umzug'];

let pair: ServerPair;
let legacy: pg.Client;
let app: pg.Client;
let names: { legacy: string; app: string };

useServers('umzugfeed', async (servers) => {
  ({ pair, legacy, app, names } = servers);
  process.env.UMZUG_OUTBOX_PASSWORD = pair.legacy.password;
  await legacy.query(ORDERS_DDL);
  await app.query(ORDERS_DDL);
});

const feed = () => changeFeed({ table: 'orders', key: ['id'], columns: COLUMNS });
const toLegacy = () =>
  syncTrigger({ server: 'legacy', table: 'orders', key: ['id'], columns: COLUMNS, delivery: 'outbox' });

function appMigrations(): readonly Migration[] {
  const link = fdwLink({
    name: 'legacy',
    host: pair.legacy.peerHost,
    port: pair.legacy.peerPort,
    dbname: names.legacy,
    userMappings: [{ user: pair.legacy.user, password: env('UMZUG_OUTBOX_PASSWORD') }],
  });
  return planMigrations('orders-app', link, toLegacy(), feed());
}

const legacyMigrations = (): readonly Migration[] =>
  planMigrations('orders-legacy', syncEndpoint({ table: 'orders', key: ['id'], columns: COLUMNS }), feed());

/** A listener of `feed()` on one database, collecting what it is handed (a named consumer keeps a cursor row). */
function listen(url: string): { listener: ChangeListener; events: ChangeEvent[] } {
  const events: ChangeEvent[] = [];
  const listener = listenToChanges({
    connection: url,
    feed: feed(),
    consumer: 'crm',
    checkpointIntervalMs: 100,
    onChange: (event) => void events.push(event),
  });
  return { listener, events };
}

async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('Timed out waiting for a condition.');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const changes = (events: ChangeEvent[]) => events.map(({ op, key, changed, row }) => ({ op, key, changed, row }));

it('Umzug installs an outbox sync and change feeds, delivers, feeds both sides, and rolls back exactly', async () => {
  const before = { app: await catalogSnapshot(app, IGNORE), legacy: await catalogSnapshot(legacy, IGNORE) };
  const appPool = new pg.Pool({ connectionString: connectionString(pair.app, names.app) });
  // Legacy's Umzug runs on a Kysely context: two of the contexts Umzug takes, one test.
  const legacyDb = new Kysely<unknown>({
    dialect: new PostgresDialect({
      pool: new pg.Pool({ connectionString: connectionString(pair.legacy, names.legacy) }),
    }),
  });
  const onApp = new Umzug({
    migrations: umzugMigrations(appMigrations()),
    context: appPool,
    storage: umzugStorage(),
    logger: undefined,
  });
  const onLegacy = new Umzug({
    migrations: umzugMigrations(legacyMigrations()),
    context: legacyDb,
    storage: umzugStorage(),
    logger: undefined,
  });
  const listeners: ChangeListener[] = [];
  try {
    expect((await onLegacy.up()).map(({ name }) => name)).toHaveLength(2);
    expect((await onApp.up()).map(({ name }) => name)).toHaveLength(3);
    const appFeed = listen(connectionString(pair.app, names.app));
    const legacyFeed = listen(connectionString(pair.legacy, names.legacy));
    listeners.push(appFeed.listener, legacyFeed.listener);
    await until(() => appFeed.listener.position() !== undefined && legacyFeed.listener.position() !== undefined);

    // The write is recorded, not sent: legacy has nothing until the drain.
    await app.query(`INSERT INTO orders VALUES (1, 'new')`);
    await app.query(`UPDATE orders SET status = 'paid' WHERE id = 1`);
    expect((await app.query('SELECT count(*)::int AS n FROM orders__outbox_legacy')).rows[0].n).toBe(2);
    expect((await legacy.query('SELECT count(*)::int AS n FROM orders')).rows[0].n).toBe(0);
    expect(await drainOutbox(app, toLegacy())).toEqual({ delivered: 2, setAside: 0, error: null });
    expect((await legacy.query('SELECT id::int, status FROM orders')).rows).toEqual([{ id: 1, status: 'paid' }]);

    // App's feed saw both writes; legacy's saw the row as the drain delivered it (as it is now).
    await until(() => appFeed.events.length >= 2 && legacyFeed.events.length >= 1);
    expect(changes(appFeed.events)).toEqual([
      { op: 'insert', key: { id: 1 }, changed: null, row: { id: 1, status: 'new' } },
      { op: 'update', key: { id: 1 }, changed: ['status'], row: { id: 1, status: 'paid' } },
    ]);
    expect(changes(legacyFeed.events)).toEqual([
      { op: 'insert', key: { id: 1 }, changed: null, row: { id: 1, status: 'paid' } },
    ]);

    // Down refuses while the outbox holds changes: deliver the delete first.
    await app.query('DELETE FROM orders');
    expect((await drainOutbox(app, toLegacy())).delivered).toBe(1);
    await until(() => legacyFeed.events.length >= 2);
    expect(legacyFeed.events[1]).toMatchObject({ op: 'delete', key: { id: 1 } });
    await Promise.all(listeners.splice(0).map((listener) => listener.stop()));
    await onApp.down({ to: 0 });
    await onLegacy.down({ to: 0 });
    expect(await catalogSnapshot(app, IGNORE)).toEqual(before.app);
    expect(await catalogSnapshot(legacy, IGNORE)).toEqual(before.legacy);
  } finally {
    await Promise.all(listeners.map((listener) => listener.stop()));
    await appPool.end();
    await legacyDb.destroy();
  }
});

// A two-way outbox with a conflict policy: app and legacy each record their writes and deliver
// them later, so neither side's writers wait for the other. Both change order 1 while legacy is
// down; after both drains the later updated_at wins on both sides, and the conflict log says so.
import pg from 'pg';
import {
  applySyncLink,
  drainOutbox,
  env,
  fdwLink,
  listConflicts,
  removeSyncLink,
  syncEndpoint,
  syncTrigger,
} from 'pg-sync-link';
import { startServer } from './support/embedded-server.mjs';

const [legacy, app] = await Promise.all([startServer('legacy'), startServer('app')]);
const columns = ['id', 'status', 'updated_at'];
const policy = { latest: 'updated_at', ties: 'legacy' };
/** This side's sync to the other: delivered rows are written by the other side's role. */
const toOther = (/** @type {'app' | 'legacy'} */ other, /** @type {string} */ thisSide) =>
  syncTrigger({
    server: other,
    table: 'orders',
    key: ['id'],
    columns,
    delivery: 'outbox',
    ignoreWritesBy: { role: `sync_from_${other}` },
    conflicts: { thisSide, ...policy },
  });
const linkTo = (/** @type {typeof app} */ other, /** @type {string} */ role) =>
  fdwLink({
    name: other.name,
    host: other.host,
    port: other.port,
    dbname: other.database,
    userMappings: [{ user: role, password: env('SYNC_ROLE_PASSWORD') }],
  });
let legacyClient = legacy.client;
try {
  process.env.SYNC_ROLE_PASSWORD = 'example-sync-password';
  const ddl = 'CREATE TABLE orders (id bigint PRIMARY KEY, status text NOT NULL, updated_at timestamptz NOT NULL)';
  for (const side of [app, legacy]) {
    // The role the other side's deliveries write as (its sync skips them: they must not travel back).
    await side.client.query(
      `CREATE ROLE sync_from_${side === app ? 'legacy' : 'app'} LOGIN PASSWORD 'example-sync-password'`,
    );
    await side.client.query(ddl);
  }
  // Both endpoints first, then the senders.
  const appSync = toOther('legacy', 'app');
  const legacySync = toOther('app', 'legacy');
  const appSide = [linkTo(legacy, 'sync_from_app'), appSync];
  const legacySide = [linkTo(app, 'sync_from_legacy'), legacySync];
  const endpoint = (/** @type {string} */ role) =>
    syncEndpoint({ table: 'orders', key: ['id'], columns, grantTo: role });
  await applySyncLink(app.client, endpoint('sync_from_legacy'));
  await applySyncLink(legacy.client, endpoint('sync_from_app'));
  await applySyncLink(app.client, appSide);
  await applySyncLink(legacy.client, legacySide);

  await app.client.query(`INSERT INTO orders VALUES (1, 'new', '2030-01-01 10:00+00')`);
  await drainOutbox(app.client, appSync);

  // Legacy ships the order at 10:05, then goes down; app cancels it at 10:02, later in real time.
  await legacy.client.query(`UPDATE orders SET status = 'shipped', updated_at = '2030-01-01 10:05+00'`);
  await legacy.client.end();
  await legacy.halt();
  await app.client.query(`UPDATE orders SET status = 'cancelled', updated_at = '2030-01-01 10:02+00'`);
  console.log(`legacy is down: ${(await drainOutbox(app.client, appSync)).delivered} delivered`);

  await legacy.start();
  legacyClient = new pg.Client({ connectionString: legacy.url });
  await legacyClient.connect();
  // Each side's worker drains (here one pass each, as startOutboxWorker would).
  const fromApp = await drainOutbox(app.client, appSync);
  const fromLegacy = await drainOutbox(legacyClient, legacySync);
  console.log(`drained: app ${fromApp.delivered}, legacy ${fromLegacy.delivered}`);
  const orders = async (/** @type {pg.Client} */ client) =>
    (await client.query('SELECT id, status FROM orders')).rows.map((row) => `${row.id} ${row.status}`).join('; ');
  console.log(`app.orders: ${await orders(app.client)}`);
  console.log(`legacy.orders: ${await orders(legacyClient)}`);
  for (const conflict of [...(await listConflicts(app.client)), ...(await listConflicts(legacyClient))]) {
    console.log(`conflict on ${JSON.stringify(conflict.key)}: ${conflict.winner} won (${conflict.policy})`);
  }

  await removeSyncLink(legacyClient, legacySide);
  await removeSyncLink(app.client, appSide);
  await removeSyncLink(legacyClient, endpoint('sync_from_app'));
  await removeSyncLink(app.client, endpoint('sync_from_legacy'));
  console.log('removed both sides');
} finally {
  if (legacyClient !== legacy.client) await legacyClient.end().catch(() => {});
  await Promise.all([legacy.stop(), app.stop()]);
}

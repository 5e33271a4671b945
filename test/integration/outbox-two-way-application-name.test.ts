import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import {
  applySyncLink,
  buildMigration,
  drainOutbox,
  env,
  fdwLink,
  listConflicts,
  outboxLag,
  syncEndpoint,
  syncTrigger,
  type ConflictRecord,
} from '../../src/index.js';
import type { ServerPair } from '../harness/pair.js';
import { at, drainBothWays } from '../harness/two-way-outbox.js';
import { useServers } from '../harness/suite.js';

// A two-way outbox with a conflict policy and the fallback guard, ignoreWritesBy.applicationName:
// no sync roles; each link marks its remote sessions with an application_name, and the conflict
// trigger fires for the sessions so marked, as it fires for the sync role with the role guard.
const ORDERS_DDL = 'CREATE TABLE orders (id bigint PRIMARY KEY, name text NOT NULL, updated_at timestamptz NOT NULL)';
const COLUMNS = ['id', 'name', 'updated_at'];
const POLICY = { latest: 'updated_at', ties: 'app' } as const;

let pair: ServerPair;
let legacy: pg.Client;
let app: pg.Client;
let names: { legacy: string; app: string };

/** The application_name the link from `side` gives its sessions on the other side. */
const mark = (side: 'app' | 'legacy') => `pg-sync-link from ${side}`;

/** This side's outbox sync to `server`, ignoring (and settling conflicts on) the other side's marked writes. */
function outboxSync(server: 'app' | 'legacy') {
  return syncTrigger({
    server,
    table: 'orders',
    key: ['id'],
    columns: COLUMNS,
    delivery: 'outbox',
    ignoreWritesBy: { applicationName: mark(server) },
    conflicts: { thisSide: server === 'app' ? 'legacy' : 'app', ...POLICY },
  });
}

useServers('outboxappname', async (servers) => {
  ({ pair, legacy, app, names } = servers);
  process.env.OUTBOX_APPNAME_LEGACY_PASSWORD = pair.legacy.password;
  process.env.OUTBOX_APPNAME_APP_PASSWORD = pair.app.password;
  for (const client of [legacy, app]) {
    await client.query(ORDERS_DDL);
    await applySyncLink(client, [
      buildMigration('endpoint', syncEndpoint({ table: 'orders', key: ['id'], columns: COLUMNS })),
    ]);
  }
  const sender = (server: 'legacy' | 'app') =>
    buildMigration(
      `to ${server}`,
      fdwLink({
        name: server,
        host: pair[server].peerHost,
        port: pair[server].peerPort,
        dbname: names[server],
        options: { application_name: mark(server === 'app' ? 'legacy' : 'app') },
        userMappings: [
          {
            user: pair[server].user,
            password: env(server === 'legacy' ? 'OUTBOX_APPNAME_LEGACY_PASSWORD' : 'OUTBOX_APPNAME_APP_PASSWORD'),
          },
        ],
      }),
      outboxSync(server),
    );
  await applySyncLink(app, [sender('legacy')]);
  await applySyncLink(legacy, [sender('app')]);
});

async function readOrders(client: pg.Client): Promise<Array<Record<string, unknown>>> {
  const { rows } = await client.query(
    `SELECT id::int, name, to_char(updated_at AT TIME ZONE 'UTC', 'SS')::int AS second FROM orders ORDER BY id`,
  );
  return rows;
}

/** Drains app's outbox, then legacy's; both must succeed. */
function drainBoth(): Promise<{ app: number; legacy: number }> {
  return drainBothWays('app', {
    app: () => drainOutbox(app, outboxSync('legacy')),
    legacy: () => drainOutbox(legacy, outboxSync('app')),
  });
}

const summary = (conflicts: ConflictRecord[]) =>
  conflicts
    .map((conflict) => ({
      id: Number(conflict.key.id),
      winner: conflict.winner,
      here: conflict.thisVersion === null ? null : conflict.thisVersion.name,
      there: conflict.otherVersion === null ? null : conflict.otherVersion.name,
    }))
    .sort((a, b) => a.id - b.id);

describe('two-way outbox conflicts with the application_name guard', () => {
  it('settles conflicts by the policy on both sides, logs them, and nothing travels back', async () => {
    await app.query(`INSERT INTO orders SELECT g, 'order ' || g, '${at(0)}' FROM generate_series(1, 4) AS g`);
    // Delivered, and not sent back: legacy's outbox ignored the marked writes.
    expect(await drainBoth()).toEqual({ app: 4, legacy: 0 });

    await app.query(`UPDATE orders SET name = 'app older', updated_at = '${at(5)}' WHERE id = 1`);
    await app.query(`UPDATE orders SET name = 'app newer', updated_at = '${at(8)}' WHERE id = 2`);
    await app.query(`UPDATE orders SET name = 'app tie', updated_at = '${at(4)}' WHERE id = 3`);
    await legacy.query(`UPDATE orders SET name = 'legacy newer', updated_at = '${at(9)}' WHERE id = 1`);
    await legacy.query(`UPDATE orders SET name = 'legacy older', updated_at = '${at(7)}' WHERE id = 2`);
    await legacy.query(`UPDATE orders SET name = 'legacy tie', updated_at = '${at(4)}' WHERE id = 3`);
    await legacy.query(`UPDATE orders SET name = 'legacy alone', updated_at = '${at(2)}' WHERE id = 4`);

    // App's drain reaches legacy first: legacy settles the conflicts.
    await drainBoth();
    const expected = [
      { id: 1, name: 'legacy newer', second: 9 },
      { id: 2, name: 'app newer', second: 8 },
      { id: 3, name: 'app tie', second: 4 },
      { id: 4, name: 'legacy alone', second: 2 },
    ];
    expect(await readOrders(app)).toEqual(expected);
    expect(await readOrders(legacy)).toEqual(expected);
    expect(await drainBoth()).toEqual({ app: 0, legacy: 0 });
    expect((await outboxLag(app, outboxSync('legacy'))).pending).toBe(0);
    expect((await outboxLag(legacy, outboxSync('app'))).pending).toBe(0);

    expect(await listConflicts(app)).toEqual([]);
    const conflicts = await listConflicts(legacy);
    expect(summary(conflicts)).toEqual([
      { id: 1, winner: 'legacy', here: 'legacy newer', there: 'app older' },
      { id: 2, winner: 'app', here: 'legacy older', there: 'app newer' },
      { id: 3, winner: 'app', here: 'legacy tie', there: 'app tie' },
    ]);
    for (const conflict of conflicts) {
      expect(conflict).toMatchObject({
        sync: 'public.orders to public.orders on server app',
        thisSide: 'legacy',
        otherSide: 'app',
        policy: 'latest updated_at, ties to app',
      });
    }
  });
  it('a local client that sets the mark is taken for the other side: why the role guard is preferred', async () => {
    await app.query(`INSERT INTO orders SELECT g, 'order ' || g, '${at(0)}' FROM generate_series(1, 3) AS g`);
    await drainBoth();
    await legacy.query(`UPDATE orders SET name = 'legacy pending', updated_at = '${at(9)}' WHERE id = 1`);
    await legacy.query(`UPDATE orders SET name = 'legacy superseded', updated_at = '${at(1)}' WHERE id = 3`);
    await legacy.query(`SET application_name = '${mark('app')}'`);
    // Key 1 is in legacy's outbox: the write is settled as app's, and the policy drops it.
    const dropped = await legacy.query(`UPDATE orders SET name = 'marked', updated_at = '${at(5)}' WHERE id = 1`);
    // Key 2 is not: the write stands here and is never sent.
    await legacy.query(`UPDATE orders SET name = 'marked alone', updated_at = '${at(5)}' WHERE id = 2`);
    // Key 3 is, and the write wins: it stands, and legacy's own pending change is dropped unsent.
    await legacy.query(`UPDATE orders SET name = 'marked newer', updated_at = '${at(5)}' WHERE id = 3`);
    await legacy.query('RESET application_name');
    expect(dropped.rowCount).toBe(0);
    expect(summary(await listConflicts(legacy))).toEqual([
      { id: 1, winner: 'legacy', here: 'legacy pending', there: 'marked' },
      { id: 3, winner: 'app', here: 'legacy superseded', there: 'marked newer' },
    ]);

    expect(await drainBoth()).toEqual({ app: 0, legacy: 1 });
    expect(await readOrders(legacy)).toEqual([
      { id: 1, name: 'legacy pending', second: 9 },
      { id: 2, name: 'marked alone', second: 5 },
      { id: 3, name: 'marked newer', second: 5 },
    ]);
    // The sides now differ on keys 2 and 3, and nothing is left to deliver.
    expect(await readOrders(app)).toEqual([
      { id: 1, name: 'legacy pending', second: 9 },
      { id: 2, name: 'order 2', second: 0 },
      { id: 3, name: 'order 3', second: 0 },
    ]);
    expect((await outboxLag(legacy, outboxSync('app'))).pending).toBe(0);
  });
});

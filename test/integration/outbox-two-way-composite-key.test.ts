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
  type ConflictPolicyOptions,
  type ConflictRecord,
} from '../../src/index.js';
import type { ServerPair } from '../harness/pair.js';
import { loginRole, ROLE_PASSWORD } from '../harness/roles.js';
import { at, drainBothWays } from '../harness/two-way-outbox.js';
import { useServers } from '../harness/suite.js';

// A two-way outbox with a conflict policy on a composite key (region, id). The outbox keeps a
// statement's keys as one array per key column, so a key is a position in those arrays: a key
// made of one array's region and another position's id is not a conflict. Only outbox delivery
// takes a policy (write-through refuses one), so there is no write-through case to cover.
// The key is declared (region, id), the table's columns are (id, region, ...): key order is not
// column order.
const STOCK_DDL = `CREATE TABLE stock (
  id integer NOT NULL,
  region text NOT NULL,
  qty integer NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (region, id)
)`;
const KEY = ['region', 'id'];
const COLUMNS = ['id', 'region', 'qty', 'updated_at'];

type Policy = Omit<ConflictPolicyOptions, 'thisSide'> & Record<string, string>;

let pair: ServerPair;
let legacy: pg.Client;
let app: pg.Client;
let names: { legacy: string; app: string };

/** This side's outbox sync to `server`; each side names itself, the policy is the same. */
function outboxSync(server: 'app' | 'legacy', policy: Policy) {
  return syncTrigger({
    server,
    table: 'stock',
    key: KEY,
    columns: COLUMNS,
    delivery: 'outbox',
    ignoreWritesBy: { role: `composite_from_${server}` },
    conflicts: { thisSide: server === 'app' ? 'legacy' : 'app', ...policy } as ConflictPolicyOptions,
  });
}

const link = (server: 'app' | 'legacy') =>
  fdwLink({
    name: server,
    host: pair[server].peerHost,
    port: pair[server].peerPort,
    dbname: names[server],
    userMappings: [
      { user: `composite_from_${server === 'app' ? 'legacy' : 'app'}`, password: env('COMPOSITE_CONFLICTS_PASSWORD') },
    ],
  });

const endpoint = (incomingRole: string) =>
  buildMigration('stock endpoint', syncEndpoint({ table: 'stock', key: KEY, columns: COLUMNS, grantTo: incomingRole }));

/** Both endpoints first (each sender checks the other side's), then both senders. */
async function install(policy: Policy): Promise<void> {
  await applySyncLink(app, [endpoint('composite_from_legacy')]);
  await applySyncLink(legacy, [endpoint('composite_from_app')]);
  await applySyncLink(app, [buildMigration('stock to legacy', link('legacy'), outboxSync('legacy', policy))]);
  await applySyncLink(legacy, [buildMigration('stock to app', link('app'), outboxSync('app', policy))]);
}

useServers('compositeconflicts', async (servers) => {
  ({ pair, legacy, app, names } = servers);
  process.env.COMPOSITE_CONFLICTS_PASSWORD = ROLE_PASSWORD;
  await loginRole(legacy, 'composite_from_app');
  await loginRole(app, 'composite_from_legacy');
  await legacy.query(STOCK_DDL);
  await app.query(STOCK_DDL);
});

async function readStock(client: pg.Client): Promise<Array<Record<string, unknown>>> {
  const { rows } = await client.query(
    `SELECT region, id, qty, to_char(updated_at AT TIME ZONE 'UTC', 'SS')::int AS second FROM stock ORDER BY region, id`,
  );
  return rows;
}

/** Drains `first`'s outbox, then the other's; both must succeed. */
function drainBoth(first: 'app' | 'legacy', policy: Policy): Promise<{ app: number; legacy: number }> {
  return drainBothWays(first, {
    app: () => drainOutbox(app, outboxSync('legacy', policy)),
    legacy: () => drainOutbox(legacy, outboxSync('app', policy)),
  });
}

const summary = (conflicts: ConflictRecord[]) =>
  conflicts
    .map((conflict) => ({
      key: conflict.key,
      winner: conflict.winner,
      here: conflict.thisVersion === null ? null : conflict.thisVersion.qty,
      there: conflict.otherVersion === null ? null : conflict.otherVersion.qty,
    }))
    .sort((a, b) => JSON.stringify(a.key).localeCompare(JSON.stringify(b.key)));

describe('two-way outbox conflicts on a composite key', () => {
  it('latest wins, settled on app: keys are matched whole, one entry of a statement is dropped alone', async () => {
    const policy = { latest: 'updated_at', ties: 'legacy' };
    await install(policy);
    await app.query(
      `INSERT INTO stock SELECT g, r, 0, '${at(0)}' FROM unnest(ARRAY['eu', 'us']) AS r, generate_series(1, 5) AS g`,
    );
    expect(await drainBoth('app', policy)).toEqual({ app: 10, legacy: 0 });

    // Each multi-key statement is one outbox row: region {eu,us}, id {1,2} for the first.
    await app.query(`UPDATE stock SET qty = 10, updated_at = '${at(5)}' WHERE (region, id) IN (('eu', 1), ('us', 2))`);
    await app.query(`UPDATE stock SET qty = 60, updated_at = '${at(5)}' WHERE (region, id) IN (('eu', 5), ('us', 4))`);
    await app.query(`DELETE FROM stock WHERE region = 'eu' AND id = 3`);
    await app.query(`UPDATE stock SET qty = 50, updated_at = '${at(8)}' WHERE region = 'us' AND id = 3`);
    await legacy.query(`UPDATE stock SET qty = 30, updated_at = '${at(9)}' WHERE region = 'eu' AND id = 1`);
    await legacy.query(`UPDATE stock SET qty = 40, updated_at = '${at(1)}' WHERE region = 'eu' AND id = 3`);
    await legacy.query(`UPDATE stock SET qty = 51, updated_at = '${at(7)}' WHERE region = 'us' AND id = 3`);
    // (eu,4) and (us,5) each share a region and an id with app's row {eu,us} {5,4}, but app
    // changed neither key: not conflicts, and app's (eu,5) and (us,4) must still be delivered.
    await legacy.query(
      `UPDATE stock SET qty = 70, updated_at = '${at(6)}' WHERE (region, id) IN (('eu', 4), ('us', 5))`,
    );

    // Legacy's drain reaches app first: app settles the conflicts.
    await drainBoth('legacy', policy);
    const expected = [
      { region: 'eu', id: 1, qty: 30, second: 9 }, // legacy newer: dropped from app's row, (us,2) kept
      { region: 'eu', id: 2, qty: 0, second: 0 },
      { region: 'eu', id: 3, qty: 40, second: 1 }, // deleted on app, changed on legacy: the change wins
      { region: 'eu', id: 4, qty: 70, second: 6 },
      { region: 'eu', id: 5, qty: 60, second: 5 },
      { region: 'us', id: 1, qty: 0, second: 0 },
      { region: 'us', id: 2, qty: 10, second: 5 },
      { region: 'us', id: 3, qty: 50, second: 8 }, // app newer: the incoming write skipped, app's delivered
      { region: 'us', id: 4, qty: 60, second: 5 },
      { region: 'us', id: 5, qty: 70, second: 6 },
    ];
    expect(await readStock(app)).toEqual(expected);
    expect(await readStock(legacy)).toEqual(expected);

    // Nothing travels back: a second round delivers nothing, both outboxes are empty.
    expect(await drainBoth('legacy', policy)).toEqual({ app: 0, legacy: 0 });
    expect((await outboxLag(app, outboxSync('legacy', policy))).pending).toBe(0);
    expect((await outboxLag(legacy, outboxSync('app', policy))).pending).toBe(0);

    expect(await listConflicts(legacy)).toEqual([]);
    const conflicts = await listConflicts(app);
    expect(summary(conflicts)).toEqual([
      { key: { region: 'eu', id: 1 }, winner: 'legacy', here: 10, there: 30 },
      { key: { region: 'eu', id: 3 }, winner: 'legacy', here: null, there: 40 },
      { key: { region: 'us', id: 3 }, winner: 'app', here: 50, there: 51 },
    ]);
    for (const conflict of conflicts) {
      expect(conflict).toMatchObject({
        sync: 'public.stock to public.stock on server legacy',
        thisSide: 'app',
        otherSide: 'legacy',
        policy: 'latest updated_at, ties to legacy',
        log: { schema: 'public', name: 'stock__conflicts_legacy' },
      });
    }
  });

  it('one side always wins, settled on legacy: a delete against a change, either way round', async () => {
    const policy = { winner: 'legacy' };
    await install(policy);
    await app.query(
      `INSERT INTO stock SELECT g, r, 0, '${at(0)}' FROM unnest(ARRAY['eu', 'us']) AS r, generate_series(1, 2) AS g`,
    );
    await drainBoth('app', policy);

    await app.query(`UPDATE stock SET qty = 1 WHERE (region, id) IN (('eu', 1), ('eu', 2))`);
    await app.query(`DELETE FROM stock WHERE region = 'us' AND id = 1`);
    await legacy.query(`DELETE FROM stock WHERE region = 'eu' AND id = 1`);
    await legacy.query(`UPDATE stock SET qty = 2 WHERE (region, id) IN (('us', 1), ('us', 2))`);

    // App's drain reaches legacy first: legacy settles, and its version goes back to app.
    await drainBoth('app', policy);
    const expected = [
      { region: 'eu', id: 2, qty: 1, second: 0 },
      { region: 'us', id: 1, qty: 2, second: 0 },
      { region: 'us', id: 2, qty: 2, second: 0 },
    ];
    expect(await readStock(app)).toEqual(expected);
    expect(await readStock(legacy)).toEqual(expected);
    expect(await drainBoth('app', policy)).toEqual({ app: 0, legacy: 0 });

    expect(await listConflicts(app)).toEqual([]);
    expect(summary(await listConflicts(legacy))).toEqual([
      { key: { region: 'eu', id: 1 }, winner: 'legacy', here: null, there: 1 },
      { key: { region: 'us', id: 1 }, winner: 'legacy', here: 2, there: null },
    ]);
  });
});

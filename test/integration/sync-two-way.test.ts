import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { buildMigration, env, fdwLink, syncEndpoint, syncTrigger, type Migration } from '../../src/index.js';
import { applyInTransaction } from '../harness/apply.js';
import { PRODUCTS_DDL, readProducts } from '../harness/legacy-fixture.js';
import type { ServerPair } from '../harness/pair.js';
import { connect, type PgServer } from '../harness/server.js';
import { loginRole, ROLE_PASSWORD } from '../harness/roles.js';
import { useServers } from '../harness/suite.js';

// Two-way: one link installed in each database. Each side's user mapping connects to the other
// as a dedicated sync role, and each side's triggers ignore writes made by the incoming role.
const COLUMNS = ['id', 'name', 'description', 'price', 'created_at', 'updated_at'];

let pair: ServerPair;
let legacy: pg.Client;
let app: pg.Client;
let names: { legacy: string; app: string };

/** One side's endpoint for the other side's writes. */
function endpoint(incomingRole: string): Migration {
  return buildMigration(
    'endpoint',
    syncEndpoint({ table: 'products', key: ['id'], columns: COLUMNS, grantTo: incomingRole }),
  );
}

/** One side's link and triggers; the other side's endpoint must exist already. */
function sender(
  other: PgServer,
  otherDb: string,
  server: string,
  outgoingRole: string,
  incomingRole: string,
): Migration {
  const link = fdwLink({
    name: server,
    host: other.peerHost,
    port: other.peerPort,
    dbname: otherDb,
    // A cross-server deadlock is invisible to both servers: the remote lock wait gives up instead.
    remoteSettings: { lock_timeout: '400ms' },
    userMappings: [{ user: outgoingRole, password: env('SYNC_ROLE_PASSWORD') }],
  });
  return buildMigration(
    `two-way ${server}`,
    link,
    syncTrigger({ server, table: 'products', key: ['id'], columns: COLUMNS, ignoreWritesBy: { role: incomingRole } }),
  );
}

useServers('sync2', async (servers) => {
  ({ pair, legacy, app, names } = servers);
  process.env.SYNC_ROLE_PASSWORD = ROLE_PASSWORD;
  await loginRole(legacy, 'sync_from_app');
  await loginRole(app, 'sync_from_legacy');
  await legacy.query(PRODUCTS_DDL);
  await app.query(PRODUCTS_DDL);
  // Both endpoints first: each side's sender checks that the other side's endpoint is there.
  await applyInTransaction(app, endpoint('sync_from_legacy'), 'up');
  await applyInTransaction(legacy, endpoint('sync_from_app'), 'up');
  await applyInTransaction(app, sender(pair.legacy, names.legacy, 'legacy', 'sync_from_app', 'sync_from_legacy'), 'up');
  await applyInTransaction(legacy, sender(pair.app, names.app, 'app', 'sync_from_legacy', 'sync_from_app'), 'up');
});

const bothSides = async () => [
  await readProducts(app, { name: 'products' }),
  await readProducts(legacy, { name: 'products' }),
];

describe('two-way sync', () => {
  it('changes on either side show on the other, and nothing travels back', async () => {
    await app.query(
      `INSERT INTO products VALUES (1, 'from app', NULL, 100, '2020-01-01 10:00:00.5', '2020-01-01 10:00:00.5')`,
    );
    await legacy.query(`INSERT INTO products VALUES (2, 'from legacy', 'x', 200, '2021-01-01', '2021-01-01')`);
    let [onApp, onLegacy] = await bothSides();
    expect(onApp).toHaveLength(2);
    expect(onLegacy).toEqual(onApp);

    await legacy.query(`UPDATE products SET price = 101, name = 'renamed on legacy' WHERE id = 1`);
    await app.query(`UPDATE products SET price = 201 WHERE id = 2`);
    await app.query(`UPDATE products SET id = 3 WHERE id = 2`);
    [onApp, onLegacy] = await bothSides();
    expect(onApp!.map((row) => (row as { id: string }).id)).toEqual(['1', '3']);
    expect(onLegacy).toEqual(onApp);

    await legacy.query('DELETE FROM products WHERE id = 3');
    await app.query('DELETE FROM products WHERE id = 1');
    expect(await bothSides()).toEqual([[], []]);
  });

  it('the mark reaches the remote session: the other side sees the sync role', async () => {
    await app.query('BEGIN');
    await app.query(`INSERT INTO products VALUES (9, 'x', NULL, 1, now(), now())`);
    const { rows } = await legacy.query(
      `SELECT usename FROM pg_stat_activity WHERE datname = $1 AND usename = 'sync_from_app'`,
      [names.legacy],
    );
    await app.query('COMMIT');
    expect(rows.length).toBeGreaterThan(0);
  });

  it('concurrent writers on both sides, on the same keys, never hang; both sides end identical', async () => {
    await app.query(
      `INSERT INTO products SELECT g, 'p' || g, NULL, 0, '2020-01-01', '2020-01-01' FROM generate_series(1, 4) g`,
    );
    const writers = await Promise.all(
      [pair.app, pair.app, pair.legacy, pair.legacy].map((server, index) =>
        connect(server, index < 2 ? names.app : names.legacy),
      ),
    );
    const failures: string[] = [];
    let committed = 0;
    const started = Date.now();
    await Promise.all(
      writers.map(async (client, writer) => {
        for (let round = 0; round < 25; round += 1) {
          const key = 1 + ((round + writer) % 4);
          try {
            await client.query('UPDATE products SET price = $1, name = $2 WHERE id = $3', [
              writer * 1000 + round,
              `writer ${writer}`,
              key,
            ]);
            committed += 1;
          } catch (error) {
            failures.push(`${(error as pg.DatabaseError).code}: ${(error as Error).message}`);
          }
        }
      }),
    );
    await Promise.all(writers.map((client) => client.end()));
    // Every failure is a fast, named one: a remote lock wait that gave up, a serialization
    // conflict in the remote transaction, or a deadlock one server detected by itself.
    for (const failure of failures) {
      expect(failure).toMatch(/^(55P03|40001): pg-sync-link: UPDATE not synced|^40P01: /);
    }
    console.log(
      `concurrent two-way writers: ${committed} committed, ${failures.length} failed fast (${[...new Set(failures.map((f) => f.slice(0, 5)))].join(', ')})`,
    );
    expect(committed + failures.length).toBe(100);
    expect(committed).toBeGreaterThan(0);
    expect(Date.now() - started).toBeLessThan(45_000);
    const [onApp, onLegacy] = await bothSides();
    expect(onLegacy).toEqual(onApp);
  });
});

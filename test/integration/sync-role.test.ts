import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import {
  buildMigration,
  env,
  fdwLink,
  sharedIds,
  sharedIdSource,
  syncEndpoint,
  syncRole,
  syncTrigger,
  type SharedIdStrategy,
} from '../../src/index.js';
import { applyInTransaction } from '../harness/apply.js';
import { catalogSnapshot } from '../harness/catalog.js';
import type { ServerPair } from '../harness/pair.js';
import { useServers } from '../harness/suite.js';

// The least-privilege sync role: it syncs through its endpoint (and takes shared ids), and can
// do nothing else on the remote side, not even read the table it writes.
const COLUMNS = ['id', 'name', 'price'];

let pair: ServerPair;
let legacy: pg.Client;
let app: pg.Client;
let names: { legacy: string; app: string };

useServers('role', async (servers) => {
  ({ pair, legacy, app, names } = servers);
  for (const client of [legacy, app])
    await client.query('CREATE TABLE products (id bigserial PRIMARY KEY, name text NOT NULL, price integer)');
  await legacy.query(`CREATE TABLE payroll (id int PRIMARY KEY, salary int); INSERT INTO payroll VALUES (1, 100000)`);
  await legacy.query(`INSERT INTO products (name, price) VALUES ('kept', 1)`);
});

/** A role name of its own per test: roles belong to the cluster, which outlives each test's databases. */
function roleName(): string {
  return `sync_from_app_${randomBytes(3).toString('hex')}`;
}

function legacySide(role: string, strategy: SharedIdStrategy) {
  return buildMigration(
    'legacy side',
    syncRole({ name: role, password: env('ROLE_TEST_PASSWORD') }),
    syncEndpoint({ table: 'products', key: ['id'], columns: COLUMNS, grantTo: role }),
    sharedIdSource({ table: 'products', column: 'id', strategy, grantTo: role, blockSize: 100, blockBase: 1_000_000 }),
  );
}

function appSide(role: string, strategy: SharedIdStrategy) {
  const link = fdwLink({
    name: 'legacy',
    host: pair.legacy.peerHost,
    port: pair.legacy.peerPort,
    dbname: names.legacy,
    userMappings: [{ user: role, password: env('ROLE_TEST_PASSWORD') }],
  });
  return buildMigration(
    'app side',
    link,
    syncTrigger({ server: 'legacy', table: 'products', key: ['id'], columns: COLUMNS }),
    sharedIds({ server: 'legacy', table: 'products', column: 'id', strategy, blockSize: 100, blockBase: 1_000_000 }),
  );
}

async function refusal(client: pg.Client, statement: string): Promise<string | undefined> {
  const error = await client.query(statement).then(
    () => undefined,
    (caught: pg.DatabaseError) => caught,
  );
  return error?.code;
}

describe('syncRole', () => {
  for (const strategy of ['per-row', 'block'] as SharedIdStrategy[]) {
    it(`syncs and takes ${strategy} ids through the link, and can read or change nothing else`, async () => {
      const role = roleName();
      process.env.ROLE_TEST_PASSWORD = `pw '${randomBytes(6).toString('hex')}\\"`;
      const before = { legacy: await catalogSnapshot(legacy), app: await catalogSnapshot(app) };
      await applyInTransaction(legacy, legacySide(role, strategy), 'up');
      await applyInTransaction(app, appSide(role, strategy), 'up');

      // Sync works: ids come from legacy, rows arrive, updates and deletes follow.
      await app.query(`INSERT INTO products (name, price) VALUES ('a', 10), ('b', 20)`);
      await app.query(`UPDATE products SET price = price + 1`);
      await app.query(`DELETE FROM products WHERE name = 'b'`);
      const onApp = (await app.query('SELECT id::text, name, price FROM products ORDER BY id')).rows;
      const onLegacy = (
        await legacy.query(`SELECT id::text, name, price FROM products WHERE name <> 'kept' ORDER BY id`)
      ).rows;
      expect(onApp).toEqual([{ id: expect.any(String), name: 'a', price: 11 }]);
      expect(onLegacy).toEqual(onApp);

      // The role itself, logged in to legacy directly: nothing outside its endpoint.
      const direct = new pg.Client({
        host: pair.legacy.host,
        port: pair.legacy.port,
        database: names.legacy,
        user: role,
        password: process.env.ROLE_TEST_PASSWORD,
      });
      await direct.connect();
      try {
        const attempts = {
          select: await refusal(direct, 'SELECT * FROM products'),
          insert: await refusal(direct, `INSERT INTO products (id, name) VALUES (99, 'x')`),
          update: await refusal(direct, 'UPDATE products SET price = 0'),
          delete: await refusal(direct, 'DELETE FROM products'),
          truncate: await refusal(direct, 'TRUNCATE products'),
          otherTable: await refusal(direct, 'SELECT * FROM payroll'),
          createTable: await refusal(direct, 'CREATE TABLE public.mine (id int)'),
          setval: await refusal(direct, `SELECT setval(pg_get_serial_sequence('products', 'id'), 1)`),
          createRole: await refusal(direct, 'CREATE ROLE other'),
        };
        expect(attempts).toEqual({
          select: '42501',
          insert: '42501',
          update: '42501',
          delete: '42501',
          truncate: '42501',
          otherTable: '42501',
          createTable: '42501',
          setval: '42501',
          createRole: '42501',
        });
        const { rows } = await direct.query(
          `SELECT rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = current_user`,
        );
        expect(rows).toEqual([
          {
            rolsuper: false,
            rolinherit: false,
            rolcreaterole: false,
            rolcreatedb: false,
            rolreplication: false,
            rolbypassrls: false,
            rolcanlogin: true,
          },
        ]);
      } finally {
        await direct.end();
      }

      // Through the link, as a user of app would try it: a foreign table over the real table.
      await app.query(
        `CREATE FOREIGN TABLE sneaky (id bigint, name text, price integer) SERVER legacy OPTIONS (table_name 'products')`,
      );
      expect(await refusal(app, 'SELECT * FROM sneaky')).toBe('42501');
      expect(await refusal(app, `UPDATE sneaky SET price = 0`)).toBe('42501');
      expect(await refusal(app, `DELETE FROM sneaky`)).toBe('42501');
      await app.query('DROP FOREIGN TABLE sneaky');

      await applyInTransaction(app, appSide(role, strategy), 'down');
      await applyInTransaction(legacy, legacySide(role, strategy), 'down');
      expect(await catalogSnapshot(app)).toEqual(before.app);
      expect(await catalogSnapshot(legacy)).toEqual(before.legacy);
      const { rows } = await legacy.query('SELECT count(*)::int AS n FROM pg_roles WHERE rolname = $1', [role]);
      expect(rows).toEqual([{ n: 0 }]);
    });
  }

  it('logs in to a database whose CONNECT was revoked from PUBLIC, and down refuses to drop a role given more since', async () => {
    const role = roleName();
    process.env.ROLE_TEST_PASSWORD = 'another-password';
    await legacy.query(`REVOKE CONNECT ON DATABASE "${names.legacy}" FROM PUBLIC`);
    const migration = buildMigration(
      'role',
      syncRole({ name: role, password: env('ROLE_TEST_PASSWORD'), connectionLimit: 2 }),
    );
    await applyInTransaction(legacy, migration, 'up');
    const direct = new pg.Client({
      host: pair.legacy.host,
      port: pair.legacy.port,
      database: names.legacy,
      user: role,
      password: 'another-password',
    });
    await direct.connect();
    await direct.end();
    await legacy.query(`GRANT SELECT ON payroll TO ${role}`);
    const error = await applyInTransaction(legacy, migration, 'down').catch((caught: unknown) => caught);
    expect((error as Error).message).toMatch(/role ".*" cannot be dropped because some objects depend on it/);
    await legacy.query(`REVOKE SELECT ON payroll FROM ${role}`);
    await applyInTransaction(legacy, migration, 'down');
  });
});

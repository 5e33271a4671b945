import type pg from 'pg';
import { expect, it } from 'vitest';
import { buildMigration, env, fdwLink, syncEndpoint, syncTrigger } from '../../src/index.js';
import { applyInTransaction } from '../harness/apply.js';
import { PRODUCTS_DDL, readProducts } from '../harness/legacy-fixture.js';
import type { ServerPair } from '../harness/pair.js';
import { useServers } from '../harness/suite.js';

// The fallback guard: no sync roles; each link marks its remote sessions with an
// application_name, and each side's triggers skip writes from a session so marked.
const COLUMNS = ['id', 'name', 'description', 'price', 'created_at', 'updated_at'];

let pair: ServerPair;
let legacy: pg.Client;
let app: pg.Client;

useServers('syncappname', async (servers) => {
  ({ pair, legacy, app } = servers);
  process.env.APPNAME_LEGACY_PASSWORD = pair.legacy.password;
  process.env.APPNAME_APP_PASSWORD = pair.app.password;
  for (const client of [legacy, app]) {
    await client.query(PRODUCTS_DDL);
    await applyInTransaction(
      client,
      buildMigration('endpoint', syncEndpoint({ table: 'products', key: ['id'], columns: COLUMNS })),
      'up',
    );
  }
  const sender = (server: 'legacy' | 'app') => {
    const other = pair[server];
    return buildMigration(
      `to ${server}`,
      fdwLink({
        name: server,
        host: other.peerHost,
        port: other.peerPort,
        dbname: servers.names[server],
        options: { application_name: `pg-sync-link to ${server}` },
        userMappings: [
          { user: other.user, password: env(server === 'legacy' ? 'APPNAME_LEGACY_PASSWORD' : 'APPNAME_APP_PASSWORD') },
        ],
      }),
      syncTrigger({
        server,
        table: 'products',
        key: ['id'],
        columns: COLUMNS,
        ignoreWritesBy: { applicationName: `pg-sync-link to ${server === 'legacy' ? 'app' : 'legacy'}` },
      }),
    );
  };
  await applyInTransaction(app, sender('legacy'), 'up');
  await applyInTransaction(legacy, sender('app'), 'up');
});

it('changes on either side show on the other, and the marked writes do not travel back', async () => {
  await app.query(`INSERT INTO products VALUES (1, 'from app', NULL, 1, '2020-01-01', '2020-01-01')`);
  await legacy.query(`INSERT INTO products VALUES (2, 'from legacy', NULL, 2, '2020-01-01', '2020-01-01')`);
  await legacy.query(`UPDATE products SET price = 10 WHERE id = 1`);
  await app.query(`DELETE FROM products WHERE id = 2`);
  const onApp = await readProducts(app, { name: 'products' });
  expect(onApp).toEqual([expect.objectContaining({ id: '1', price: 10 })]);
  expect(await readProducts(legacy, { name: 'products' })).toEqual(onApp);
});

it('a client that sets the same application_name skips sync: why the role guard is preferred', async () => {
  await app.query(`SET application_name = 'pg-sync-link to app'`);
  await app.query(`INSERT INTO products VALUES (3, 'silently local', NULL, 3, '2020-01-01', '2020-01-01')`);
  const remote = await legacy.query('SELECT count(*)::int AS n FROM products WHERE id = 3');
  expect(remote.rows[0].n).toBe(0);
});

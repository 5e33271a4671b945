// `npm run demo`: the seed story. Two real PostgreSQL servers, "legacy" (an old app nobody
// dares to touch) and "app" (its rewrite). Migrations in migrations/ link them with
// postgres_fdw, copy legacy's products into app once, then keep products in sync both ways.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { quoteLiteral } from 'pg-sync-link';
import { startServer } from './support/embedded-server.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const say = (line = '') => console.log(line);

/**
 * @param {string[]} args
 * @param {Record<string, string>} env
 */
async function knex(args, env) {
  say(`$ npx knex ${args.join(' ')}`);
  const { stdout, stderr } = await promisify(execFile)('npx', ['knex', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
  });
  for (const line of `${stdout}${stderr}`.trim().split('\n')) say(`  ${line}`);
}

/**
 * @param {import('pg').Client} client
 * @param {string} title
 * @param {'products' | 'legacy_products'} table
 */
async function show(client, title, table = 'products') {
  const { rows } = await client.query(
    `SELECT id, name, price, updated_at::text AS updated_at FROM ${table} ORDER BY id`,
  );
  const columns = ['id', 'name', 'price', 'updated_at'];
  const widths = columns.map((column) =>
    Math.max(column.length, ...rows.map((row) => String(row[column] ?? '').length)),
  );
  /** @param {unknown[]} values */
  const line = (values) =>
    `  ${values.map((value, index) => String(value ?? '').padEnd(widths[index] ?? 0)).join(' | ')}`.trimEnd();
  say(`${title}:`);
  say(line(columns));
  say(`  ${widths.map((width) => '-'.repeat(width)).join('-+-')}`);
  for (const row of rows) say(line(columns.map((column) => row[column])));
}

/** @type {Awaited<ReturnType<typeof startServer>>[]} */
const servers = [];
try {
  say('pg-sync-link demo: products kept in sync both ways between "legacy" and "app"\n');
  const [legacy, app] = await Promise.all([startServer('legacy'), startServer('app')]);
  servers.push(legacy, app);
  const {
    rows: [{ server_version: version }],
  } = await legacy.client.query('SHOW server_version');
  say(`Started legacy on 127.0.0.1:${legacy.port} and app on 127.0.0.1:${app.port} (PostgreSQL ${version}).`);

  await legacy.client.query(`CREATE TABLE products (
    id bigint PRIMARY KEY,
    name varchar(255) NOT NULL,
    description text,
    price integer,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL)`);
  await legacy.client.query(`INSERT INTO products VALUES
    (1, 'Kettle', 'Stainless steel, 1.7 l', 2999, '2019-03-01 09:00', '2021-05-04 10:30'),
    (2, 'Teapot', 'Cast iron', 4550, '2019-03-02 11:15', '2019-03-02 11:15'),
    (3, 'Mug', NULL, 850, '2020-07-19 16:45', '2022-01-10 08:05')`);
  say('Seeded legacy.products with 3 rows.');

  // What a DBA does once: a login role on each side for the other side's sync, allowed to read
  // legacy's products (the first copy) and, through the migrations, to insert into an endpoint.
  const passwords = { legacy: randomBytes(12).toString('hex'), app: randomBytes(12).toString('hex') };
  await legacy.client.query(`CREATE ROLE sync_from_app LOGIN PASSWORD ${quoteLiteral(passwords.legacy)}`);
  await legacy.client.query('GRANT SELECT ON products TO sync_from_app');
  await app.client.query(`CREATE ROLE sync_from_legacy LOGIN PASSWORD ${quoteLiteral(passwords.app)}`);
  say('Created the sync roles: sync_from_app on legacy, sync_from_legacy on app.\n');

  const env = {
    APP_DATABASE_URL: app.url,
    LEGACY_DATABASE_URL: legacy.url,
    LEGACY_DB_HOST: legacy.host,
    LEGACY_DB_PORT: String(legacy.port),
    LEGACY_DB_NAME: legacy.name,
    LEGACY_DB_PASSWORD: passwords.legacy,
    APP_DB_HOST: app.host,
    APP_DB_PORT: String(app.port),
    APP_DB_NAME: app.name,
    APP_DB_PASSWORD: passwords.app,
  };
  // Each side's sync checks that the other side's endpoint exists, so legacy's endpoint goes
  // first, then all of app, then the rest of legacy.
  await knex(['migrate:up', '--env', 'legacy'], env);
  await knex(['migrate:latest', '--env', 'app'], env);
  await knex(['migrate:latest', '--env', 'legacy'], env);
  say();
  await show(
    app.client,
    "legacy's products, read by app through the link (foreign table legacy_products)",
    'legacy_products',
  );
  say();
  await show(app.client, "app.products, copied from them by app's own migration");

  say(
    "\nlegacy: INSERT Tea strainer (4); app: UPDATE the Kettle's price; legacy: DELETE the Mug (3); app: INSERT Milk jug (5)",
  );
  await legacy.client.query(
    `INSERT INTO products VALUES (4, 'Tea strainer', 'Fine mesh', 499, '2024-02-02 12:00', '2024-02-02 12:00')`,
  );
  await app.client.query(`UPDATE products SET price = 3199, updated_at = '2026-11-22 09:00' WHERE id = 1`);
  await legacy.client.query('DELETE FROM products WHERE id = 3');
  await app.client.query(
    `INSERT INTO products VALUES (5, 'Milk jug', NULL, 1250, '2026-11-22 09:05', '2026-11-22 09:05')`,
  );
  say();
  await show(legacy.client, 'legacy.products');
  say();
  await show(app.client, 'app.products');
  const [onLegacy, onApp] = await Promise.all(
    [legacy.client, app.client].map((client) => client.query('SELECT * FROM products ORDER BY id')),
  );
  say(`\nBoth sides identical: ${JSON.stringify(onLegacy?.rows) === JSON.stringify(onApp?.rows) ? 'yes' : 'NO'}\n`);

  await knex(['migrate:rollback', '--all', '--env', 'legacy'], env);
  await knex(['migrate:rollback', '--all', '--env', 'app'], env);
  const leftovers = async (/** @type {import('pg').Client} */ client) =>
    (
      await client.query(`SELECT
      (SELECT count(*) FROM pg_foreign_server)::int AS servers,
      (SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal)::int AS triggers,
      (SELECT count(*) FROM pg_views WHERE viewname LIKE '%sync%')::int AS endpoints`)
    ).rows[0];
  say(
    `\nAfter rollback: legacy ${JSON.stringify(await leftovers(legacy.client))}, app ${JSON.stringify(await leftovers(app.client))}.`,
  );
} finally {
  await Promise.all(servers.map((server) => server.stop()));
  say('Stopped both servers.');
}

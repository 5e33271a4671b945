// Reading rows through a link vs reading the same rows from a local table, with postgres_fdw's
// default fetch_size (100) and with fetch_size 10000.
import { buildMigration, env, fdwLink, runMigration } from 'pg-sync-link';
import { medianMs, round } from './measure.mjs';

const ROWS = 100_000;

/**
 * @param {{ legacy: import('../examples/support/embedded-server.mjs').Server, app: import('../examples/support/embedded-server.mjs').Server }} pair
 * @param {(line: string) => void} say
 */
export async function benchFdwRead({ legacy, app }, say) {
  const seed = `SELECT g AS id, 'product ' || g AS name, repeat('x', 100) AS description, g % 5000 AS price FROM generate_series(1, ${ROWS}) g`;
  await legacy.client.query(`CREATE TABLE products AS ${seed}`);
  await app.client.query(`CREATE TABLE local_products AS ${seed}`);
  process.env.BENCH_LEGACY_PASSWORD = legacy.password;
  const columns = [
    { name: 'id', type: 'integer' },
    { name: 'name', type: 'text' },
    { name: 'description', type: 'text' },
    { name: 'price', type: 'integer' },
  ];
  const link = fdwLink({
    name: 'legacy',
    host: legacy.host,
    port: legacy.port,
    dbname: legacy.name,
    userMappings: [{ user: legacy.user, password: env('BENCH_LEGACY_PASSWORD') }],
  });
  const migration = buildMigration(
    'bench link',
    link,
    link.foreignTable({ name: 'products_default_fetch', remote: { name: 'products' }, columns }),
    link.foreignTable({
      name: 'products_fetch_10000',
      remote: { name: 'products' },
      columns,
      options: { fetch_size: 10000 },
    }),
  );
  await runMigration(migration, 'up', (sql, values) => app.client.query(sql, [...values]));

  // OFFSET 0 keeps the aggregate local, so every row really crosses the link.
  const read = (/** @type {string} */ table) => () =>
    app.client.query(`SELECT sum(length(name) + length(description) + price) FROM (SELECT * FROM ${table} OFFSET 0) s`);
  const local = await medianMs(read('local_products'));
  const fetch100 = await medianMs(read('products_default_fetch'));
  const fetch10000 = await medianMs(read('products_fetch_10000'));
  say(
    `read ${ROWS} rows: local ${local.toFixed(1)} ms, through the link ${fetch100.toFixed(1)} ms (fetch_size 100), ${fetch10000.toFixed(1)} ms (fetch_size 10000)`,
  );
  await runMigration(migration, 'down', (sql, values) => app.client.query(sql, [...values]));
  return { fdw_read_ratio: round(fetch100 / local), fdw_read_fetch_10000_ratio: round(fetch10000 / local) };
}

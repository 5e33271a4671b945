// The cost of one shared id, per strategy, relative to a local nextval in the same run.
import { buildMigration, env, fdwLink, runMigration, sharedIds, sharedIdSource } from 'pg-sync-link';
import { round } from './measure.mjs';

const LOCAL_IDS = 200_000;
const PER_ROW_IDS = 2_000;
const BLOCK_IDS = 200_000;

/**
 * @param {{ legacy: import('../examples/support/embedded-server.mjs').Server, app: import('../examples/support/embedded-server.mjs').Server }} pair
 * @param {(line: string) => void} say
 */
export async function benchSharedIds({ legacy, app }, say) {
  const run =
    (/** @type {import('pg').Client} */ client) =>
    (/** @type {string} */ sql, /** @type {readonly string[]} */ values) =>
      client.query(sql, [...values]);
  await legacy.client.query('CREATE TABLE products (id bigserial PRIMARY KEY, name text)');
  await app.client.query(
    'CREATE TABLE by_row (id bigserial PRIMARY KEY, name text); CREATE TABLE by_block (id bigserial PRIMARY KEY, name text); CREATE SEQUENCE local_ids',
  );
  process.env.BENCH_IDS_PASSWORD = legacy.password;
  const source = buildMigration(
    'sources',
    sharedIdSource({ table: 'products', column: 'id', strategy: 'per-row' }),
    sharedIdSource({ table: 'products', column: 'id', strategy: 'block' }),
  );
  const borrower = buildMigration(
    'ids',
    fdwLink({
      name: 'legacy',
      host: legacy.host,
      port: legacy.port,
      dbname: legacy.database,
      userMappings: [{ user: legacy.user, password: env('BENCH_IDS_PASSWORD') }],
    }),
    sharedIds({ server: 'legacy', table: 'by_row', column: 'id', remote: { table: 'products' }, strategy: 'per-row' }),
    sharedIds({ server: 'legacy', table: 'by_block', column: 'id', remote: { table: 'products' }, strategy: 'block' }),
  );
  await runMigration(source, 'up', run(legacy.client));
  await runMigration(borrower, 'up', run(app.client));

  const perId = async (/** @type {string} */ expression, /** @type {number} */ count) => {
    await app.client.query(`SELECT count(${expression}) FROM generate_series(1, 100)`); // warm up
    const start = process.hrtime.bigint();
    await app.client.query(`SELECT count(${expression}) FROM generate_series(1, ${count})`);
    return Number(process.hrtime.bigint() - start) / 1e6 / count;
  };
  const local = await perId(`nextval('local_ids')`, LOCAL_IDS);
  const perRow = await perId('by_row__id_next_id()', PER_ROW_IDS);
  const block = await perId('by_block__id_next_id()', BLOCK_IDS);
  say(
    `one id: local nextval ${(local * 1000).toFixed(2)} µs, per-row through the link ${(perRow * 1000).toFixed(1)} µs, from a block ${(block * 1000).toFixed(2)} µs`,
  );

  await runMigration(borrower, 'down', run(app.client));
  await runMigration(source, 'down', run(legacy.client));
  await app.client.query('DROP TABLE by_row, by_block; DROP SEQUENCE local_ids');
  await legacy.client.query('DROP TABLE products');
  return { per_row_id_ratio: round(perRow / local), block_id_ratio: round(block / local) };
}

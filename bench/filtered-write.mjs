// A bulk insert into a synced table with a row filter that half the rows match, vs the same
// insert into the same sync without a filter (every row sent), in the same run.
import { buildMigration, env, fdwLink, runMigration, sqlExpression, syncEndpoint, syncTrigger } from 'pg-sync-link';
import { round } from './measure.mjs';
import { emptyTable, PRODUCT_COLUMNS, productRows, productTable } from './products.mjs';

const ROWS = 100_000;
const RUNS = 5;

/**
 * @param {{ legacy: import('../examples/support/embedded-server.mjs').Server, app: import('../examples/support/embedded-server.mjs').Server }} pair
 * @param {(line: string) => void} say
 */
export async function benchFilteredWrite({ legacy, app }, say) {
  const run =
    (/** @type {import('pg').Client} */ client) =>
    (/** @type {string} */ sql, /** @type {readonly string[]} */ values) =>
      client.query(sql, [...values]);
  const tables = ['unfiltered', 'filtered'];
  for (const name of tables) {
    await legacy.client.query(productTable(name));
    await app.client.query(productTable(name));
  }
  process.env.BENCH_FILTER_PASSWORD = legacy.password;
  const link = fdwLink({
    name: 'legacy_filtered',
    host: legacy.host,
    port: legacy.port,
    dbname: legacy.name,
    userMappings: [{ user: legacy.user, password: env('BENCH_FILTER_PASSWORD') }],
  });
  const endpoints = buildMigration(
    'endpoints',
    ...tables.map((table) => syncEndpoint({ table, key: ['id'], columns: PRODUCT_COLUMNS })),
  );
  const syncs = buildMigration(
    'syncs',
    link,
    ...tables.map((table) =>
      syncTrigger({
        server: 'legacy_filtered',
        table,
        key: ['id'],
        columns: PRODUCT_COLUMNS,
        ...(table === 'filtered' ? { where: sqlExpression('src.id % 2 = 0') } : {}),
      }),
    ),
  );
  await runMigration(endpoints, 'up', run(legacy.client));
  await runMigration(syncs, 'up', run(app.client));

  const insert = async (/** @type {string} */ table) => {
    await emptyTable(app.client, table);
    await emptyTable(legacy.client, table);
    const start = process.hrtime.bigint();
    await app.client.query(productRows(table, ROWS));
    return Number(process.hrtime.bigint() - start) / 1e6;
  };
  // Alternated, so both see the same noise; medians of each.
  const times = { unfiltered: /** @type {number[]} */ ([]), filtered: /** @type {number[]} */ ([]) };
  await insert('unfiltered');
  await insert('filtered');
  for (let attempt = 0; attempt < RUNS; attempt += 1) {
    times.unfiltered.push(await insert('unfiltered'));
    times.filtered.push(await insert('filtered'));
  }
  const median = (/** @type {number[]} */ values) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  const [unfiltered, filtered] = [median(times.unfiltered), median(times.filtered)];
  const sent = await legacy.client.query('SELECT count(*)::int AS n FROM filtered');
  if (sent.rows[0].n !== ROWS / 2) throw new Error(`the filter sent ${sent.rows[0].n} rows, not ${ROWS / 2}`);
  say(
    `bulk INSERT of ${ROWS} rows into a synced table, half matching its filter: ${filtered.toFixed(0)} ms; unfiltered (all sent) ${unfiltered.toFixed(0)} ms`,
  );

  for (const table of tables) await emptyTable(app.client, table);
  await runMigration(syncs, 'down', run(app.client));
  await runMigration(endpoints, 'down', run(legacy.client));
  for (const name of tables) {
    await legacy.client.query(`DROP TABLE ${name}`);
    await app.client.query(`DROP TABLE ${name}`);
  }
  return { filtered_write_ratio: round(filtered / unfiltered) };
}

// `node bench/scaling-floor.mjs [sync] [outbox]`: why a synced bulk insert's ratio to an unsynced
// one changes with the statement's size. Not part of `npm run bench`; its own two servers.
// At 10k, 100k and 1M rows, in the same run: the unsynced insert, the same rows through the
// sync's foreign table with no trigger (the transport alone), and the synced insert (or the
// outbox-recorded one). Then the fixed cost per statement: STATEMENTS one-row statements, each
// synced vs unsynced, whose difference is what a statement costs before its rows do. If
//   synced(N) = plain(N) + slope × N + constant,
// the slope fitted from 100k and 1M predicts each size's extra time; the part of 10k's extra not
// predicted by the slope is what a constant would have to explain.
import { buildMigration, runMigration, syncEndpoint, syncTrigger } from 'pg-sync-link';
import { pickedParts, startBenchPair } from './bench-setup.mjs';
import { median, round, timeMs } from './measure.mjs';
import { emptyTable, PRODUCT_COLUMNS, productRows, productTable } from './products.mjs';
import { installSyncedTable, legacyLink, runOn } from './synced-table.mjs';

const SIZES = [10_000, 100_000, 1_000_000];
const STATEMENTS = Number(process.env.STATEMENTS ?? 200);
const { runs } = pickedParts(['sync', 'outbox']);
const label = (/** @type {number} */ rows) => (rows >= 1_000_000 ? `${rows / 1_000_000}m` : `${rows / 1000}k`);
const say = (/** @type {string} */ line) => console.log(line);

/**
 * Times each table's bulk insert at every size (tables taking turns, so noise hits all), then
 * STATEMENTS one-row autocommit inserts into each. Returns medians in ms.
 * @param {import('pg').Client} client
 * @param {readonly string[]} tables
 * @param {(table: string) => Promise<void>} clear
 */
async function timeSizes(client, tables, clear) {
  /** @type {Record<number, Record<string, number>>} */
  const bulk = {};
  for (const rows of SIZES) {
    const times = Object.fromEntries(tables.map((table) => [table, /** @type {number[]} */ ([])]));
    for (let attempt = 0; attempt < (rows >= 1_000_000 ? 1 : 3); attempt += 1) {
      for (const table of tables) {
        await clear(table);
        times[table]?.push(await timeMs(() => client.query(productRows(table, rows))));
      }
    }
    bulk[rows] = Object.fromEntries(tables.map((table) => [table, median(times[table] ?? [])]));
  }
  /** @type {Record<string, number>} */
  const single = {};
  for (const table of tables) {
    await clear(table);
    // One warm-up statement (the session's first call of the trigger function), then the timed ones.
    await client.query(productRows(table, 1, 0));
    single[table] = await timeMs(async () => {
      for (let id = 1; id <= STATEMENTS; id += 1) await client.query(productRows(table, 1, id));
    });
  }
  return { bulk, single };
}

/**
 * Prints the per-row costs, the fit, and returns the figures under `prefix`.
 * @param {string} prefix
 * @param {{ bulk: Record<number, Record<string, number>>, single: Record<string, number> }} times
 * @param {string} synced the table whose writes are synced
 * @param {string | undefined} transport the foreign table alone, if measured
 */
function report(prefix, { bulk, single }, synced, transport) {
  /** @type {Record<string, number>} */
  const results = {};
  const at = (/** @type {number} */ rows, /** @type {string} */ table) => bulk[rows]?.[table] ?? 0;
  const extra = (/** @type {number} */ rows) => at(rows, synced) - at(rows, 'plain');
  // The slope of the extra time from the two big sizes, and the constant that line implies.
  const slope = (extra(1_000_000) - extra(100_000)) / 900_000;
  const implied = extra(100_000) - slope * 100_000;
  const perStatement = (single[synced] ?? 0) / STATEMENTS - (single.plain ?? 0) / STATEMENTS;
  for (const rows of SIZES) {
    const us = (/** @type {string} */ table) => ((at(rows, table) * 1000) / rows).toFixed(2);
    const ratio = round(at(rows, synced) / at(rows, 'plain'));
    const predicted = round((at(rows, 'plain') + slope * rows + perStatement) / at(rows, 'plain'));
    say(
      `${prefix} ${label(rows).padStart(4)}: µs/row plain ${us('plain')}${transport ? `, transport ${us(transport)}` : ''}, ${synced} ${us(synced)}; ` +
        `${synced} ${ratio}×${transport ? `, transport ${round(at(rows, transport) / at(rows, 'plain'))}×` : ''}; ` +
        `extra ${extra(rows).toFixed(0)} ms (${((extra(rows) * 1000) / rows).toFixed(2)} µs/row), slope × rows + constant predicts ${predicted}×`,
    );
    results[`${prefix}_ratio_${label(rows)}`] = ratio;
    results[`${prefix}_plain_us_per_row_${label(rows)}`] = round((at(rows, 'plain') * 1000) / rows);
    results[`${prefix}_extra_us_per_row_${label(rows)}`] = round((extra(rows) * 1000) / rows);
    if (transport) results[`${prefix}_transport_ratio_${label(rows)}`] = round(at(rows, transport) / at(rows, 'plain'));
  }
  say(
    `${prefix}: fixed cost per one-row statement ${perStatement.toFixed(2)} ms (synced ${((single[synced] ?? 0) / STATEMENTS).toFixed(2)}, plain ${((single.plain ?? 0) / STATEMENTS).toFixed(2)}); ` +
      `the 100k–1M line implies ${implied.toFixed(1)} ms; 10k's extra beyond the slope: ${(extra(10_000) - slope * 10_000).toFixed(1)} ms`,
  );
  results[`${prefix}_constant_ms`] = round(perStatement);
  results[`${prefix}_implied_constant_ms`] = round(implied);
  results[`${prefix}_10k_beyond_slope_ms`] = round(extra(10_000) - slope * 10_000);
  return results;
}

// As `npm run bench` starts them, so the figures compare with its.
const [legacy, app] = await startBenchPair();
try {
  const pair = { legacy, app };
  const results = /** @type {Record<string, number>} */ ({});
  if (runs('sync')) {
    const synced = await installSyncedTable(pair, 'synced');
    const { rows: found } = await app.client.query(
      `SELECT 'public.' || ftrelid::regclass::text AS name FROM pg_catalog.pg_foreign_table
       WHERE pg_catalog.array_to_string(ftoptions, ',') LIKE '%table_name=synced\\_\\_sync\\_upsert\\_%'`,
    );
    const upsert = found[0].name;
    // The transport writes into the other side's synced table: empty it there too.
    const clear = (/** @type {string} */ table) => synced.clear(table === upsert ? 'synced' : table);
    const times = await timeSizes(app.client, ['plain', upsert, 'synced'], clear);
    Object.assign(results, report('bulk_insert', times, 'synced', upsert));
    await synced.remove();
  }
  if (runs('outbox')) {
    await app.client.query(`${productTable('plain')}; ${productTable('boxed')}`);
    // Nothing is drained here, but the sender checks that the other side has its endpoint.
    await legacy.client.query(productTable('boxed'));
    const endpoint = buildMigration(
      'endpoint',
      syncEndpoint({ table: 'boxed', key: ['id'], columns: PRODUCT_COLUMNS }),
    );
    await runMigration(endpoint, 'up', runOn(legacy.client));
    const sender = buildMigration(
      'outbox',
      legacyLink(pair),
      syncTrigger({ server: 'legacy', table: 'boxed', key: ['id'], columns: PRODUCT_COLUMNS, delivery: 'outbox' }),
    );
    await runMigration(sender, 'up', runOn(app.client));
    const clear = async (/** @type {string} */ table) => {
      await emptyTable(app.client, table);
      if (table === 'boxed') await app.client.query('TRUNCATE boxed__outbox_legacy');
    };
    const times = await timeSizes(app.client, ['plain', 'boxed'], clear);
    Object.assign(results, report('outbox_write', times, 'boxed', undefined));
    await clear('boxed');
    await runMigration(sender, 'down', runOn(app.client));
    await runMigration(endpoint, 'down', runOn(legacy.client));
    await app.client.query('DROP TABLE plain, boxed');
    await legacy.client.query('DROP TABLE boxed');
  }
  console.log(JSON.stringify(results));
} finally {
  await Promise.all([legacy.stop(), app.stop()]);
}
